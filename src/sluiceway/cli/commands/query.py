"""``sluiceway query "SQL"``: ask the warehouse, get a table, CSV or JSON.

``sluiceway query --saved NAME`` runs a saved query instead (see
:mod:`sluiceway.cli.commands.saved_queries`), and ``sluiceway queries`` lists them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.table import Table

from sluiceway.cli import render
from sluiceway.cli.commands.saved_queries import (
    QueryFolder,
    SavedQuery,
    find_saved_query,
    query_folders,
    saved_queries,
)
from sluiceway.cli.context import CliState
from sluiceway.core.errors import Location, WarehouseError
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
    title: str | None = None,
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
        table = render.arrow_table(result, limit=limit)
        table.title = title
        render.stdout().print(table)


def saved_query_folders(state: CliState, pipeline: str | None) -> list[QueryFolder]:
    """Where ``--saved NAME`` looks: next to ``pipeline`` (else the project file), the project
    root, then the demo's bundled queries."""
    from sluiceway.spec.project import PROJECT_FILE, resolve_pipeline

    root = state.root
    if pipeline is not None:
        file: Path | None = resolve_pipeline(pipeline, state.cwd)
    else:
        main = root / PROJECT_FILE
        file = main if main.is_file() else None
    return query_folders(root=root, pipeline_file=file)


def run_saved_query(
    state: CliState,
    name: str,
    *,
    output: str,
    pipeline: str | None,
    limit: int | None,
    native: bool = False,
) -> None:
    """Run the saved query ``name`` read-only; its description titles the table."""
    saved = find_saved_query(name, saved_query_folders(state, pipeline))
    try:
        run_query(
            state,
            saved.sql(),
            output=output,
            pipeline=pipeline,
            limit=limit,
            write=False,
            native=native,
            title=saved.description,
        )
    except WarehouseError as exc:
        hint = exc.hint
        if saved.origin == "demo":
            hint = (
                "The demo's saved queries read the silver and gold tables `sluiceway demo` "
                "builds: run it first, in this folder."
            )
        raise WarehouseError(
            f"saved query {saved.name!r}: {exc.message}",
            hint=hint,
            location=Location(file=str(saved.path)),
        ) from exc


def _shown(query: SavedQuery, state: CliState) -> str:
    if query.origin == "demo":
        return f"demo: {query.path.name}"
    try:
        return str(query.path.relative_to(state.root))
    except ValueError:
        return str(query.path)


def list_saved_queries(state: CliState, *, pipeline: str | None, as_json: bool) -> None:
    """Every saved query: name, description, and the file it comes from."""
    folders = saved_query_folders(state, pipeline)
    found = saved_queries(folders)
    if as_json:
        rows = [
            {
                "name": q.name,
                "description": q.description,
                "origin": q.origin,
                "file": str(q.path),
            }
            for q in found
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    out = render.stdout()
    if not found:
        searched = ", ".join(str(f.path) for f in folders)
        out.print(f"No saved queries (looked in {searched}).")
        return
    table = Table(title="saved queries", title_style="bold")
    for column in ("name", "description", "from"):
        table.add_column(column)
    for q in found:
        table.add_row(q.name, q.description or "", _shown(q, state))
    out.print(table)
    out.print("Run one: [bold]sluiceway query --saved NAME[/]  ·  its SQL: sluiceway queries NAME")


def show_saved_query(state: CliState, name: str, *, pipeline: str | None) -> None:
    """The SQL of the saved query ``name`` as its file has it (stdout), and where it is (stderr),
    so ``sluiceway queries NAME > NAME.sql`` copies it."""
    saved = find_saved_query(name, saved_query_folders(state, pipeline))
    render.stderr().print(f"[dim]{saved.path}[/]")
    text = saved.sql()
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
