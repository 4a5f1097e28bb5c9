"""``sluiceway profile TABLE``: column statistics of a warehouse table, computed on demand.

The profile is the one loads get (:func:`sluiceway.quality.profile.profile_table`), taken of
the whole table as it is now; it is printed, not stored.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from sqlglot import exp

from sluiceway.cli import render
from sluiceway.cli.commands.query import open_warehouse
from sluiceway.cli.context import CliState
from sluiceway.core.errors import NotFoundError
from sluiceway.core.names import TableRef
from sluiceway.quality.profile import ColumnProfile, TableProfile, profile_table
from sluiceway.quality.sql import SqlRunner
from sluiceway.schema.contract import SYSTEM_COLUMNS
from sluiceway.warehouses.bookkeeping import SCHEMA as BOOKKEEPING_SCHEMA

_BAR = "▁▂▃▄▅▆▇█"
_DASH = "-"
# Schemas that hold no user tables: ours, and the engines' catalogs.
_HIDDEN_SCHEMAS = (BOOKKEEPING_SCHEMA, "information_schema", "pg_catalog")
_HINT_TABLES = 20  # tables named in the hint of an unknown table
_VALUE_CHARS = 40  # longer top values and patterns are cut in the terminal


def profile_warehouse_table(
    state: CliState,
    table: str,
    *,
    pipeline: str | None,
    columns: Sequence[str] | None = None,
    top_n: int = 10,
    bins: int = 20,
    skip_system: bool = False,
) -> TableProfile:
    """Profile ``table`` in the warehouse of ``pipeline`` (opened read-only).

    ``columns`` limits the profile (default: every column; with ``skip_system``, every column
    but Sluiceway's lineage columns). An unknown table is a :class:`NotFoundError` whose hint
    names the tables there are.
    """
    with open_warehouse(state, pipeline, read_only=True) as warehouse:
        runner = warehouse.sql_runner()
        schema = warehouse.table_schema(TableRef.parse(table))
        if schema is None:
            known = _user_tables(runner, warehouse.capabilities.default_schema)
            shown = ", ".join(known[:_HINT_TABLES])
            if len(known) > _HINT_TABLES:
                shown += f" and {len(known) - _HINT_TABLES} more"
            raise NotFoundError(
                f"there is no table {table!r} in {warehouse.describe()}",
                hint=f"Tables there: {shown or 'none yet'}. Name one as [schema.]table.",
            )
        if columns is None and skip_system:
            columns = [f.name for f in schema if f.name.lower() not in SYSTEM_COLUMNS]
        return profile_table(runner, table, table=table, columns=columns, top_n=top_n, bins=bins)


def _user_tables(runner: SqlRunner, default_schema: str | None) -> list[str]:
    """The warehouse's tables and views, schema-qualified outside the default schema."""
    schema, name = exp.column("table_schema"), exp.column("table_name")
    query = (
        exp.select(schema, name)
        .from_(exp.table_("tables", db="information_schema"))
        .where(exp.not_(schema.copy().isin(*_HIDDEN_SCHEMAS)))
        .order_by(schema.copy(), name.copy())
    )
    return [
        row["table_name"]
        if row["table_schema"] == default_schema
        else f"{row['table_schema']}.{row['table_name']}"
        for row in runner.fetch(query).to_pylist()
    ]


def show_profile(
    state: CliState,
    table: str,
    *,
    pipeline: str | None,
    columns: Sequence[str] | None,
    top_n: int,
    bins: int,
    html: Path | None,
    as_json: bool,
) -> None:
    """Print the profile of ``table`` (tables or JSON); with ``html``, also write a page."""
    profile = profile_warehouse_table(
        state, table, pipeline=pipeline, columns=columns, top_n=top_n, bins=bins
    )
    if html is not None:
        from sluiceway.quality.report_html import render_profile_html

        html.write_text(render_profile_html(profile.to_dict()), encoding="utf-8")
        render.stderr().print(f"Wrote {html}; it opens offline.")
    if as_json:
        sys.stdout.write(json.dumps(profile.to_dict(), indent=2) + "\n")
        return
    render.stdout().print(Group(summary_table(profile), detail_table(profile)))


def summary_table(profile: TableProfile) -> Table:
    """One row per column: type, NULLs, distinct values, extremes, mean, spread, quartiles."""
    grid = Table(
        title=f"profile of {profile.table} · {profile.rows:,} rows · "
        f"{len(profile.columns)} columns",
        caption=f"profiled {profile.profiled_at}",
    )
    grid.add_column("column")
    grid.add_column("type")
    for heading in ("nulls", "null %", "distinct", "min", "max", "mean", "stddev"):
        grid.add_column(heading, justify="right")
    for heading in ("p25", "p50", "p75"):
        grid.add_column(heading, justify="right")
    for column in profile.columns:
        quantiles = column.quantiles or {}
        grid.add_row(
            Text(column.name, style="bold"),
            Text(column.type, style="dim"),
            _count(column.nulls),
            Text(_percent(column.null_share), style="yellow" if column.nulls else ""),
            _count(column.distinct),
            *(_stat(v) for v in (column.min, column.max, column.mean, column.stddev)),
            *(_stat(quantiles.get(q)) for q in ("p25", "p50", "p75")),
        )
    return grid


def detail_table(profile: TableProfile) -> Table:
    """One row per column: its top values, string lengths, patterns and histogram."""
    grid = Table(title="values", show_lines=True)
    for heading in ("column", "top values (rows, share)", "length", "patterns", "histogram"):
        grid.add_column(heading)
    for column in profile.columns:
        grid.add_row(
            Text(column.name, style="bold"),
            _shares([(v.value, v.count, v.share) for v in column.top_values]),
            _length(column),
            _shares([(p.pattern, p.count, p.share) for p in column.patterns or ()]),
            _histogram(column),
        )
    return grid


def _shares(items: Sequence[tuple[str, int, float]]) -> Text:
    if not items:
        return Text(_DASH, style="dim")
    lines = Text()
    for index, (value, count, share) in enumerate(items):
        if index:
            lines.append("\n")
        shown = value if len(value) <= _VALUE_CHARS else value[: _VALUE_CHARS - 1] + "…"
        lines.append(shown)
        lines.append(f"  {count:,} ({_percent(share)})", style="dim")
    return lines


def _length(column: ColumnProfile) -> Text:
    if column.length is None:
        return Text(_DASH, style="dim")
    length = column.length
    return Text(f"{length.min}-{length.max} (mean {_number(length.mean)})")


def _histogram(column: ColumnProfile) -> Text:
    if not column.histogram:
        return Text(_DASH, style="dim")
    counts = [b.count for b in column.histogram]
    top = max(counts) or 1
    bars = "".join(_BAR[round(c / top * (len(_BAR) - 1))] if c else " " for c in counts)
    low, high = column.histogram[0].lo, column.histogram[-1].hi
    return Text(bars) + Text(f"\n{_number(low)} … {_number(high)}", style="dim")


def _count(value: int | None) -> Text:
    return Text(_DASH, style="dim") if value is None else Text(f"{value:,}")


def _stat(value: Any) -> Text:
    """A statistic as it reads best: numbers rounded to four decimals, values as text."""
    if value is None:
        return Text(_DASH, style="dim")
    if isinstance(value, bool):
        return Text("true" if value else "false")
    if isinstance(value, int | float):
        return Text(_number(value))
    return Text(str(value))


def _number(value: float) -> str:
    if isinstance(value, int) or not math.isfinite(value):
        return str(value)
    magnitude = abs(value)
    if magnitude >= 1e12 or 0 < magnitude < 1e-4:
        return f"{value:.4e}"
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _percent(share: float) -> str:
    # A tiny non-zero share must not read as 0.0%.
    if 0 < share < 0.001:
        return f"{share * 100:.2g}%"
    return f"{share:.1%}"
