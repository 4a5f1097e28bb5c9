"""``sluiceway init DIR``: a new project that runs as soon as it is created."""

from __future__ import annotations

from pathlib import Path

from sluiceway.core.errors import ConfigError
from sluiceway.spec.project import PROJECT_FILE

PIPELINE = """\
# A Sluiceway pipeline. `sluiceway validate` checks it, `sluiceway run` runs it.
# Relative paths resolve against this file's folder. ${VAR} and ${VAR:-default} read the
# environment.
pipeline: __NAME__
description: Load the CSV files in data/ into the embedded warehouse.

# The embedded DuckDB warehouse; omit this block for the same default.
warehouse:
  type: duckdb
  path: .sluiceway/warehouse.duckdb

defaults:
  write: append        # append | replace | merge
  batch_size: 65536    # rows per Arrow batch: memory stays flat whatever the file size
  on_bad_rows: fail    # fail | dlq (keep unparseable rows in the dead-letter queue)

sources:
  example:
    type: csv
    path: data/*.csv
    table: raw.example
    write: merge
    primary_key: [id]
"""

EXAMPLE_CSV = """\
id,name,signed_up,score
1,Ada,2024-01-15,91.5
2,Grace,2024-02-01,88.0
3,Linus,2024-03-12,79.25
"""

GITIGNORE = """\
# Sluiceway state: run history and the embedded warehouse.
.sluiceway/
"""


def scaffold(directory: Path, *, force: bool = False) -> list[Path]:
    """Create the project; returns the files written."""
    directory = directory.resolve()
    target = directory / PROJECT_FILE
    if target.exists() and not force:
        raise ConfigError(
            f"{target} already exists",
            hint="Pass --force to overwrite it, or choose another folder.",
        )
    name = "".join(c if c.isalnum() or c in "_-" else "_" for c in directory.name) or "project"
    if not name[0].isalpha() and name[0] != "_":
        name = f"p_{name}"
    files = {
        target: PIPELINE.replace("__NAME__", name),
        directory / "data" / "example.csv": EXAMPLE_CSV,
        directory / ".gitignore": GITIGNORE,
    }
    written = []
    try:
        (directory / "models").mkdir(parents=True, exist_ok=True)
        (directory / "data").mkdir(parents=True, exist_ok=True)
        for path, text in files.items():
            if path.exists() and path != target and not force:
                continue
            path.write_text(text, encoding="utf-8")
            written.append(path)
    except OSError as exc:
        raise ConfigError(f"cannot create the project in {directory}: {exc.strerror}") from exc
    return written
