"""Saved queries: named ``.sql`` files that ``sluiceway query --saved NAME`` runs.

A saved query is one statement in DuckDB's dialect, compiled for the warehouse like any query
given on the command line. A comment line ``-- description: ...`` in the file's leading
comments says what it answers; ``sluiceway queries`` lists every query with it.

``NAME`` is looked up in these folders, the first match winning, so a project can override a
bundled query by saving one under the same name:

1. ``queries/`` next to the pipeline file (``--pipeline``, else the project's ``sluiceway.yaml``);
2. ``queries/`` in the project root;
3. the demo's bundled queries (``sluiceway/demo/queries/``), over the tables ``sluiceway demo``
   builds.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from sluiceway.core.errors import ConfigError

QUERIES_DIR = "queries"
SUFFIX = ".sql"

Origin = Literal["pipeline", "project", "demo"]

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_DESCRIPTION = re.compile(r"^--\s*description:\s*(?P<text>.*?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class QueryFolder:
    """A folder of saved queries and why it is searched."""

    origin: Origin
    path: Path


@dataclass(frozen=True)
class SavedQuery:
    """One saved query: its name (the file's stem), file, folder and description."""

    name: str
    path: Path
    origin: Origin
    description: str | None

    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


def bundled_folder() -> Path:
    """The demo's saved queries, shipped in the package."""
    return Path(str(resources.files("sluiceway.demo").joinpath(QUERIES_DIR)))


def query_folders(
    *, root: Path, pipeline_file: Path | None, bundled: Path | None = None
) -> list[QueryFolder]:
    """The folders ``NAME`` is looked up in, in order; a folder met twice counts once.

    ``pipeline_file`` is the pipeline whose folder comes first (``None``: no pipeline);
    ``bundled`` defaults to :func:`bundled_folder`.
    """
    project = QueryFolder("project", root.resolve() / QUERIES_DIR)
    demo = QueryFolder("demo", (bundled if bundled is not None else bundled_folder()).resolve())
    folders = [project, demo]
    if pipeline_file is not None:
        beside = pipeline_file.resolve().parent / QUERIES_DIR
        # The project file's folder is the project's: it is listed once, as the project's.
        if beside not in (project.path, demo.path):
            folders.insert(0, QueryFolder("pipeline", beside))
    return folders


def description_of(text: str) -> str | None:
    """The ``-- description:`` line among the file's leading comment lines, if any.

    >>> description_of("-- description: Top products\\nSELECT 1")
    'Top products'
    """
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        found = _DESCRIPTION.match(stripped)
        if found is not None:
            return found.group("text") or None
    return None


def _load(path: Path, origin: Origin) -> SavedQuery:
    return SavedQuery(
        name=path.stem,
        path=path,
        origin=origin,
        description=description_of(path.read_text(encoding="utf-8")),
    )


def saved_queries(folders: Sequence[QueryFolder]) -> list[SavedQuery]:
    """Every saved query the folders hold, by name; a name an earlier folder has is shadowed."""
    found: dict[str, SavedQuery] = {}
    for folder in folders:
        if not folder.path.is_dir():
            continue
        for path in sorted(folder.path.glob(f"*{SUFFIX}")):
            if path.is_file() and path.stem not in found:
                found[path.stem] = _load(path, folder.origin)
    return [found[name] for name in sorted(found)]


def find_saved_query(name: str, folders: Sequence[QueryFolder]) -> SavedQuery:
    """The saved query ``name`` (without ``.sql``) from the first folder that has it.

    An unknown name raises :class:`ConfigError` naming the folders searched and the closest
    names there are.
    """
    stem = name.removesuffix(SUFFIX)
    if not _NAME.match(stem):
        raise ConfigError(
            f"{name!r} is not a saved query name",
            hint="A name is a file name under queries/ without `.sql`: letters, digits, "
            "`_`, `-` and `.` (`sluiceway queries` lists them).",
        )
    for folder in folders:
        path = folder.path / f"{stem}{SUFFIX}"
        if path.is_file():
            return _load(path, folder.origin)
    known = [q.name for q in saved_queries(folders)]
    close = difflib.get_close_matches(stem, known, n=3, cutoff=0.5)
    searched = ", ".join(str(f.path) for f in folders)
    if close:
        hint = f"Did you mean {' or '.join(close)}? `sluiceway queries` lists the saved queries."
    else:
        hint = (
            f"`sluiceway queries` lists the saved queries; to add this one, save its SQL as "
            f"queries/{stem}{SUFFIX} in the project."
        )
    raise ConfigError(f"no saved query named {stem!r} (looked in {searched})", hint=hint)
