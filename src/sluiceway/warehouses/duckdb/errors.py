"""DuckDB errors at the warehouse boundary, in words that say what to do."""

from __future__ import annotations

import re

import duckdb

from sluiceway.core.errors import (
    SluicewayError,
    WarehouseError,
    WarehouseLockedError,
)

_PID = re.compile(r"\(PID (\d+)\)")


def translate_open(exc: duckdb.Error, path: str) -> SluicewayError:
    text = str(exc)
    if "lock" in text.lower():
        pid = _PID.search(text)
        holder = f"process {pid.group(1)}" if pid else "another process"
        return WarehouseLockedError(
            f"the warehouse {path} is in use by {holder}",
            hint="A DuckDB file admits one writer at a time. Wait for the other run to finish "
            "(`sluiceway runs` shows it), or stop it.",
        )
    if any(
        reason in text
        for reason in ("Permission denied", "Read-only file system", "Operation not permitted")
    ):
        return WarehouseError(
            f"cannot write the warehouse file {path}: permission denied",
            hint="Point `warehouse.path` at a writable location, or fix the folder's permissions.",
        )
    if "not a valid DuckDB database file" in text:
        return WarehouseError(
            f"{path} exists but is not a DuckDB database",
            hint="Point `warehouse.path` at a new file; Sluiceway will not overwrite this one.",
        )
    if "newer version" in text or "storage version" in text.lower():
        return WarehouseError(
            f"{path} was written by a newer DuckDB than this one",
            hint="Upgrade Sluiceway (and DuckDB) to open it.",
        )
    return WarehouseError(f"cannot open the warehouse {path}: {_first_line(text)}")


def translate_load(exc: duckdb.Error, table: str) -> SluicewayError:
    return WarehouseError(f"loading {table} failed: {_first_line(str(exc))}")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"
