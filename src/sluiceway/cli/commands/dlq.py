"""``sluiceway dlq list|show|count``: the rows that did not load, and why."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any

from rich.table import Table
from rich.text import Text

from sluiceway.cli import render
from sluiceway.cli.commands.query import open_warehouse
from sluiceway.cli.context import CliState
from sluiceway.core.errors import NotFoundError

_LIST = (
    "SELECT load_id || ':' || seq AS id, table_name, source, error_class, column_name, "
    "file, line, message, first_seen_at, attempts, status FROM _sluiceway.dlq "
    "WHERE ($table IS NULL OR lower(table_name) = lower($table)) "
    "AND ($load IS NULL OR load_id = $load) "
    "AND ($error_class IS NULL OR error_class = $error_class) "
    "ORDER BY first_seen_at DESC, load_id DESC, seq LIMIT $limit"
)
_GROUPS = {
    "table": "table_name",
    "error_class": "error_class",
    "column": "column_name",
    "source": "source",
    "load": "load_id",
}


def list_rows(
    state: CliState,
    *,
    table: str | None,
    load: str | None,
    error_class: str | None,
    limit: int,
    pipeline: str | None,
    as_json: bool,
) -> None:
    params = {"table": table, "load": load, "error_class": error_class, "limit": limit}
    with open_warehouse(state, pipeline, read_only=True) as warehouse:
        rows = warehouse.query(_LIST, params).to_pylist()
    if as_json:
        sys.stdout.write(json.dumps(rows, default=str, indent=2) + "\n")
        return
    if not rows:
        render.stdout().print("The dead-letter queue is empty.")
        return
    out = Table(title="dead-letter queue (newest first)")
    for column in ("id", "table", "error class", "column", "where", "message"):
        out.add_column(column, overflow="fold")
    for row in rows:
        where = row["file"] or ""
        if row["line"] is not None:
            where += f":{row['line']}"
        out.add_row(
            row["id"],
            row["table_name"],
            Text(row["error_class"], style="yellow"),
            row["column_name"] or "",
            where,
            row["message"],
        )
    render.stdout().print(out)


def show_row(state: CliState, row_id: str, *, pipeline: str | None, as_json: bool) -> None:
    load_id, _, seq = row_id.rpartition(":")
    if not load_id or not seq.isdigit():
        raise NotFoundError(
            f"{row_id!r} is not a dead-letter row id",
            hint="Ids look like LOAD_ID:SEQ; `sluiceway dlq list` shows them.",
        )
    with open_warehouse(state, pipeline, read_only=True) as warehouse:
        rows = warehouse.query(
            "SELECT * FROM _sluiceway.dlq WHERE load_id = $load AND seq = $seq",
            {"load": load_id, "seq": int(seq)},
        ).to_pylist()
    if not rows:
        raise NotFoundError(
            f"no dead-letter row {row_id}", hint="`sluiceway dlq list` shows the rows there are."
        )
    row: dict[str, Any] = rows[0]
    raw = row.get("raw")
    with contextlib.suppress(ValueError):  # rows written before raw was always JSON
        row["raw"] = json.loads(raw) if raw is not None else None
    if as_json:
        sys.stdout.write(json.dumps(row, default=str, indent=2) + "\n")
        return
    out = render.stdout()
    for key, value in row.items():
        if key == "raw":
            continue
        out.print(f"[bold]{key:>16}[/]  {value if value is not None else ''}")
    out.print("[bold]             raw[/]")
    out.print_json(data=row["raw"]) if row["raw"] is not None else out.print("  (none)")


def count_rows(state: CliState, *, by: str, pipeline: str | None, as_json: bool) -> None:
    column = _GROUPS[by]
    with open_warehouse(state, pipeline, read_only=True) as warehouse:
        rows = warehouse.query(
            f"SELECT {column} AS key, count(*) AS rows FROM _sluiceway.dlq "
            "GROUP BY ALL ORDER BY rows DESC, key",
            {},
        ).to_pylist()
    if as_json:
        sys.stdout.write(json.dumps(rows, default=str, indent=2) + "\n")
        return
    out = Table(title=f"dead-letter rows by {by}")
    out.add_column(by)
    out.add_column("rows", justify="right")
    for row in rows:
        out.add_row(str(row["key"]), f"{row['rows']:,}")
    out.add_row(Text("total", style="bold"), f"{sum(r['rows'] for r in rows):,}")
    render.stdout().print(out)
