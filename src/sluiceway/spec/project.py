"""Where a project is, and which file a pipeline name refers to.

A project is a folder with a ``sluiceway.yaml`` (its main pipeline) and optionally more pipeline
files under ``pipelines/``. Commands run from anywhere inside it: the root is the nearest
ancestor holding ``sluiceway.yaml``. A command's PIPELINE argument is a file path, or the name of
a pipeline defined in one of the project's files.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from sluiceway.core.errors import ConfigError

PROJECT_FILE = "sluiceway.yaml"
PIPELINES_DIR = "pipelines"


def project_root(start: Path) -> Path:
    """The nearest ancestor of ``start`` (itself included) holding ``sluiceway.yaml``.

    Without one, ``start`` itself is the root: a lone pipeline file is a project of its own.
    """
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    return start


def pipeline_files(root: Path) -> list[Path]:
    """Every pipeline file of the project: ``sluiceway.yaml`` then ``pipelines/*.y(a)ml``."""
    files = []
    main = root / PROJECT_FILE
    if main.is_file():
        files.append(main)
    folder = root / PIPELINES_DIR
    if folder.is_dir():
        files.extend(sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]))
    return files


def resolve_pipeline(target: str | None, cwd: Path | None = None) -> Path:
    """The pipeline file ``target`` names: a path, a pipeline name, or (None) the project file."""
    cwd = (cwd or Path.cwd()).resolve()
    root = project_root(cwd)
    if target is None:
        main = root / PROJECT_FILE
        if main.is_file():
            return main
        raise ConfigError(
            f"no {PROJECT_FILE} in {cwd} or any folder above it",
            hint="Pass a pipeline file (`sluiceway run path/to/pipeline.yaml`) or create a "
            "project with `sluiceway init DIR`.",
        )
    candidate = Path(target).expanduser()
    if not candidate.is_absolute():
        candidate = cwd / candidate
    if candidate.is_file():
        return candidate
    if candidate.suffix in (".yaml", ".yml") or "/" in target:
        raise ConfigError(f"pipeline file {target} does not exist")
    known: dict[str, Path] = {}
    for file in pipeline_files(root):
        name = _declared_name(file)
        if name is not None:
            known.setdefault(name, file)
    if target in known:
        return known[target]
    listing = ", ".join(sorted(known)) or "none"
    raise ConfigError(
        f"no pipeline named {target!r} in project {root}",
        hint=f"Pipelines found: {listing}. Pass a file path or one of these names.",
    )


def _declared_name(file: Path) -> str | None:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None  # a broken file is reported when it is loaded, not while searching
    if isinstance(data, dict) and isinstance(data.get("pipeline"), str):
        return str(data["pipeline"])
    return None
