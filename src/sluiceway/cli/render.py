"""How results look in a terminal: summary tables, run lists, query results, errors."""

from __future__ import annotations

import io
import json
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sluiceway.core.errors import SluicewayError
from sluiceway.core.redaction import redact
from sluiceway.engine.runner import RunResult
from sluiceway.meta.records import RunRecord, StepRecord

STATUS_STYLE = {
    "succeeded": "green",
    "running": "cyan",
    "failed": "red",
    "cancelled": "yellow",
    "skipped": "dim",
    "blocked": "magenta",
    "pending": "dim",
}


def _width() -> int | None:
    # In a pipe or a CI log there is no terminal to fit; don't fold tables into 80 columns.
    return None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160


def stdout() -> Console:
    return Console(highlight=False, soft_wrap=False, width=_width())


def stderr() -> Console:
    return Console(stderr=True, highlight=False, width=_width())


def print_error(error: BaseException, *, debug: bool) -> None:
    """One paragraph, no traceback unless ``--debug``; every known secret shows as ``***``."""
    console = stderr()
    if debug:
        kept = getattr(error, "__sluiceway_traceback__", None)
        text = kept or "".join(traceback.format_exception(error))
        console.print(Text(redact(text), style="dim"))
    if isinstance(error, SluicewayError):
        console.print(Text("Error: ", style="bold red") + Text(redact(error.render())))
    else:
        console.print(
            Text("Unexpected error: ", style="bold red")
            + Text(redact(f"{type(error).__name__}: {error}"))
        )
        if not debug:
            console.print("Run again with --debug for the traceback, and please report it.")


def _n(value: int) -> str:
    return f"{value:,}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:04.1f}s"


def _status(value: str) -> Text:
    return Text(value, style=STATUS_STYLE.get(value, ""))


def run_summary(result: RunResult) -> Table:
    table = Table(
        title=f"{result.pipeline} · run {result.run_id} · {result.status.value}",
        title_style=f"bold {STATUS_STYLE.get(result.status.value, '')}",
        show_footer=True,
    )
    table.add_column("source", footer="total")
    table.add_column("table")
    table.add_column("status")
    table.add_column("rows read", justify="right", footer=_n(result.rows_read))
    table.add_column("loaded", justify="right", footer=_n(result.rows_loaded))
    table.add_column("rejected", justify="right", footer=_n(result.rows_rejected))
    table.add_column("duration", justify="right", footer=_duration(result.duration_s))
    rate = result.rows_read / result.duration_s if result.duration_s else 0
    table.add_column("rows/s", justify="right", footer=f"{rate:,.0f}")
    for step in result.steps:
        table.add_row(
            step.name,
            step.table,
            _status(step.status.value),
            _n(step.rows_read),
            _n(step.rows_loaded),
            Text(_n(step.rows_rejected), style="yellow" if step.rows_rejected else ""),
            _duration(step.duration_s),
            f"{step.rows_per_s:,.0f}",
        )
    return table


def runs_table(runs: Sequence[RunRecord]) -> Table:
    table = Table(title="runs")
    for name, justify in (
        ("run id", "left"),
        ("pipeline", "left"),
        ("status", "left"),
        ("started (UTC)", "left"),
        ("duration", "right"),
        ("rows in", "right"),
        ("rows out", "right"),
        ("rejected", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for run in runs:
        table.add_row(
            run.run_id,
            run.pipeline,
            _status(run.status.value),
            _time(run.started_at),
            _duration(run.duration_s),
            _n(run.rows_in),
            _n(run.rows_out),
            _n(run.rows_rejected),
        )
    return table


def steps_table(run: RunRecord, steps: Sequence[StepRecord]) -> Table:
    table = Table(title=f"{run.pipeline} · run {run.run_id} · {run.status.value}")
    for name, justify in (
        ("step", "left"),
        ("kind", "left"),
        ("target", "left"),
        ("status", "left"),
        ("attempt", "right"),
        ("rows in", "right"),
        ("rows out", "right"),
        ("rejected", "right"),
        ("duration", "right"),
        ("error or reason", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for step in steps:
        reason = str(step.details.get("reason") or "") if step.details else ""
        table.add_row(
            step.step,
            step.kind,
            step.target or "",
            _status(step.status.value),
            str(step.attempt),
            _n(step.rows_in),
            _n(step.rows_out),
            _n(step.rows_rejected),
            _duration(step.duration_s),
            Text(redact(step.error_message or reason), style="red" if step.error_message else ""),
        )
    return table


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def record_dict(record: RunRecord | StepRecord) -> dict[str, Any]:
    out = {f.name: _jsonable(getattr(record, f.name)) for f in fields(record)}
    out["duration_s"] = record.duration_s
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def arrow_table(result: pa.Table, *, limit: int | None) -> Table:
    shown = result if limit is None else result.slice(0, limit)
    table = Table(
        caption=f"{result.num_rows:,} row(s)"
        + (f", first {limit:,} shown" if limit is not None and result.num_rows > limit else "")
    )
    for field in result.schema:
        numeric = pa.types.is_integer(field.type) or pa.types.is_floating(field.type)
        table.add_column(field.name, justify="right" if numeric else "left")
    for row in shown.to_pylist():
        table.add_row(*[_cell(v) for v in row.values()])
    return table


def _cell(value: Any) -> Text:
    if value is None:
        return Text("NULL", style="dim")
    return Text(str(value))


def write_csv(result: pa.Table) -> None:
    buffer = io.BytesIO()
    pacsv.write_csv(result, buffer)
    sys.stdout.write(buffer.getvalue().decode("utf-8"))


def write_json(result: pa.Table) -> None:
    sys.stdout.write(json.dumps(result.to_pylist(), default=str, indent=2) + "\n")
