"""What every command needs: the options given to ``sluiceway`` itself, and the project.

Heavy modules (pyarrow, DuckDB, the registry) load on first use, so ``--help`` stays instant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sluiceway.engine.registry import Registry
    from sluiceway.spec.loader import LoadedPipeline
    from sluiceway.warehouses.base import Warehouse


@dataclass
class CliState:
    debug: bool = False
    log_format: str | None = None
    profile: str | None = None  # --profile; else $SLUICEWAY_PROFILE, else `dev` if defined
    cwd: Path = field(default_factory=Path.cwd)
    _registry: Registry | None = field(default=None, repr=False)

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            from sluiceway.engine.registry import Registry

            self._registry = Registry()
        return self._registry

    def load(self, target: str | None) -> LoadedPipeline:
        """The pipeline a PIPELINE argument names (a file or a name; none: the project file)."""
        from sluiceway.spec.project import resolve_pipeline

        return self.load_file(resolve_pipeline(target, self.cwd))

    def load_file(self, file: Path, *, profile: str | None = None) -> LoadedPipeline:
        """Load ``file`` with the selected profile (``profile``, else ``--profile``, else the
        loader's default: ``$SLUICEWAY_PROFILE``, else ``dev`` if the file defines it)."""
        from sluiceway.engine.registry import DEFAULT_WAREHOUSE
        from sluiceway.spec.loader import load_pipeline

        # Registry.load takes no profile (yet): the same call, with the profile passed on
        return load_pipeline(
            file,
            self.registry.pipeline_model,
            default_warehouse=DEFAULT_WAREHOUSE,
            profile=profile or self.profile,
        )

    @property
    def root(self) -> Path:
        from sluiceway.spec.project import project_root

        return project_root(self.cwd)

    def default_pipeline(self) -> LoadedPipeline | None:
        """The project's main pipeline, if the project has a ``sluiceway.yaml``."""
        from sluiceway.spec.project import PROJECT_FILE

        main = self.root / PROJECT_FILE
        return self.load_file(main) if main.is_file() else None

    def state_dir(self) -> Path:
        """Where run history lives: the project file's ``state_dir``, else ``.sluiceway``."""
        from sluiceway.spec.loader import STATE_DIR_NAME

        pipeline = self.default_pipeline()
        return pipeline.state_dir if pipeline is not None else self.root / STATE_DIR_NAME

    def warehouse(self, pipeline: str | None) -> Warehouse[Any]:
        """The warehouse of ``pipeline``, else of the project, else the default DuckDB file.

        Not opened: callers open it read-only or writable as they need.
        """
        from sluiceway.warehouses.base import WarehouseContext

        loaded = self.load(pipeline) if pipeline else self.default_pipeline()
        if loaded is not None:
            return self.registry.warehouses.create(
                loaded.spec.warehouse, WarehouseContext(loaded.state_dir, loaded.resolve)
            )
        from sluiceway.warehouses.duckdb.warehouse import DuckDBSpec

        root = self.root
        return self.registry.warehouses.create(
            DuckDBSpec(type="duckdb"), WarehouseContext(self.state_dir(), lambda p: root / p)
        )
