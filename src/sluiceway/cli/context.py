"""What every command needs: the options given to ``sluiceway`` itself, and the project."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sluiceway.engine.registry import Registry
from sluiceway.spec.loader import STATE_DIR_NAME, LoadedPipeline
from sluiceway.spec.project import PROJECT_FILE, project_root, resolve_pipeline


@dataclass
class CliState:
    debug: bool = False
    log_format: str | None = None
    cwd: Path = field(default_factory=Path.cwd)
    registry: Registry = field(default_factory=Registry)

    def load(self, target: str | None) -> LoadedPipeline:
        """The pipeline a PIPELINE argument names (a file or a name; none: the project file)."""
        return self.registry.load(resolve_pipeline(target, self.cwd))

    @property
    def root(self) -> Path:
        return project_root(self.cwd)

    def default_pipeline(self) -> LoadedPipeline | None:
        """The project's main pipeline, if the project has a ``sluiceway.yaml``."""
        main = self.root / PROJECT_FILE
        return self.registry.load(main) if main.is_file() else None

    def state_dir(self) -> Path:
        """Where run history lives: the project file's ``state_dir``, else ``.sluiceway``."""
        pipeline = self.default_pipeline()
        return pipeline.state_dir if pipeline is not None else self.root / STATE_DIR_NAME
