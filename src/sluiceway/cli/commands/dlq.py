"""``sluiceway dlq list|show|count|replay|purge``: the rows that did not load, and why."""

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
from sluiceway.core.errors import ConfigError, NotFoundError
from sluiceway.engine.replay import DlqFilter, open_rows, plan_replay
from sluiceway.engine.run_lock import PipelineLock
from sluiceway.spec.loader import LoadedPipeline

_LIST = (
    "SELECT load_id || ':' || seq AS id, table_name, source, error_class, rule, column_name, "
    "file, line, message, first_seen_at, attempts, status FROM _sluiceway.dlq "
    "WHERE ($all OR status = 'open') AND {where} "
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
    filters: DlqFilter,
    *,
    include_replayed: bool,
    limit: int,
    pipeline: str | None,
    as_json: bool,
) -> None:
    where, params = filters.where()
    params.update(limit=limit, all=include_replayed)
    with open_warehouse(state, pipeline, read_only=True) as warehouse:
        rows = warehouse.query(_LIST.format(where=where), params).to_pylist()
    if as_json:
        sys.stdout.write(json.dumps(rows, default=str, indent=2) + "\n")
        return
    if not rows:
        render.stdout().print("The dead-letter queue is empty.")
        return
    out = Table(title="dead-letter queue (newest first)")
    for column in ("id", "table", "error class", "rule", "column", "where", "message"):
        out.add_column(column, overflow="fold")
    for row in rows:
        where = row["file"] or ""
        if row["line"] is not None:
            where += f":{row['line']}"
        out.add_row(
            row["id"],
            row["table_name"],
            Text(row["error_class"], style="yellow"),
            row["rule"] or "",
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


def replay_rows(
    state: CliState,
    filters: DlqFilter,
    *,
    pipeline: str | None,
    dry_run: bool,
    as_json: bool,
) -> bool:
    """Run the open rows again through the pipeline's current settings; ``False`` on failure."""
    loaded = state.load(pipeline)
    # Held from reading the open rows to the last round, so no run or other replay takes the
    # same rows in between; each round's run takes it again (it is re-entrant).
    with PipelineLock(loaded.state_dir, loaded.spec.pipeline):
        return _replay(state, loaded, filters, pipeline=pipeline, dry_run=dry_run, as_json=as_json)


def _replay(
    state: CliState,
    loaded: LoadedPipeline,
    filters: DlqFilter,
    *,
    pipeline: str | None,
    dry_run: bool,
    as_json: bool,
) -> bool:
    from sluiceway.cli.commands.run import execute

    with open_warehouse(state, pipeline, read_only=True) as warehouse:
        rows = open_rows(warehouse, filters)
    plan = plan_replay(rows, loaded.spec.pipeline, list(loaded.spec.sources))
    summary: dict[str, object] = {
        "rows": plan.rows,
        "sources": plan.per_source(),
        "skipped": plan.skipped,
    }
    out = render.stdout() if not as_json else render.stderr()
    if not rows:
        out.print("No open dead-letter rows match; nothing to replay.")
    for name, count in plan.per_source().items():
        out.print(f"[bold]{name}[/]: {count:,} row(s) to replay")
    for reason, count in plan.skipped.items():
        out.print(f"[yellow]left in the queue[/]: {count:,} row(s): {reason}")
    runs = []
    ok = True
    for found in [] if dry_run else plan.rounds:
        result = execute(
            state,
            loaded,
            select=list(found),
            as_json=as_json,
            trigger="replay",
            print_json=False,
            replay=found,
        )
        runs.append(result.as_dict())
        if result.status.value != "succeeded":
            ok = False
            break
    if as_json:
        sys.stdout.write(json.dumps({"plan": summary, "runs": runs}, indent=2) + "\n")
    return ok


_PURGE = (
    "DELETE FROM _sluiceway.dlq WHERE list_contains($statuses, status) AND {where} "
    "RETURNING load_id"
)


def purge_rows(
    state: CliState,
    filters: DlqFilter,
    *,
    replayed_only: bool,
    everything: bool,
    pipeline: str | None,
    as_json: bool,
) -> None:
    """Delete dead-letter rows for good; without a filter, ``--all`` must say so."""
    unfiltered = filters == DlqFilter()
    if unfiltered and not (everything or replayed_only):
        raise ConfigError(
            "dlq purge without a filter would delete every row in the dead-letter queue",
            hint="Narrow it (--table, --class, --rule, --load, --source), purge only replayed "
            "rows (--replayed), or say --all.",
        )
    where, params = filters.where()
    params["statuses"] = ["replayed"] if replayed_only else ["open", "replayed"]
    with open_warehouse(state, pipeline, read_only=False) as warehouse:
        deleted = warehouse.query(_PURGE.format(where=where), params).num_rows
    if as_json:
        sys.stdout.write(json.dumps({"deleted": deleted}) + "\n")
        return
    render.stdout().print(f"Deleted {deleted:,} dead-letter row(s).")
