"""``sluiceway query "SQL"``: ask the warehouse, get a table, CSV or JSON."""

from __future__ import annotations

from typing import Any

from sluiceway.cli import render
from sluiceway.cli.context import CliState
from sluiceway.core.sql_compile import compile_sql
from sluiceway.warehouses.base import Warehouse


def open_warehouse(state: CliState, pipeline: str | None, *, read_only: bool) -> Warehouse[Any]:
    warehouse = state.warehouse(pipeline)
    warehouse.open(read_only=read_only)
    return warehouse


def run_query(
    state: CliState,
    sql: str,
    *,
    output: str,
    pipeline: str | None,
    limit: int | None,
    write: bool,
    native: bool = False,
) -> None:
    with open_warehouse(state, pipeline, read_only=not write) as warehouse:
        # Written in DuckDB's dialect, like every SQL in a pipeline; compiled for the warehouse.
        text = sql if native else compile_sql(sql, warehouse.capabilities.dialect)
        result = warehouse.query(text)
    if output == "csv":
        render.write_csv(result)
    elif output == "json":
        render.write_json(result)
    else:
        render.stdout().print(render.arrow_table(result, limit=limit))
