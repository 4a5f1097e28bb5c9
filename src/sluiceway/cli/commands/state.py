"""``sluiceway state show|reset``: the cursors incremental sources keep, and resetting them."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.table import Table

from sluiceway.cli import render
from sluiceway.cli.commands.query import open_warehouse
from sluiceway.cli.context import CliState
from sluiceway.core.errors import ConfigError
from sluiceway.engine.incremental import CURSOR_STATE
from sluiceway.engine.periods import PERIODS_STATE, Periods
from sluiceway.engine.run_lock import PipelineLock
from sluiceway.sources.files.tracking import FILES_STATE
from sluiceway.warehouses.base import StateValue


def show(state: CliState, pipeline: str | None, *, as_json: bool) -> None:
    """Every incremental source's cursor, when it last moved and which load moved it."""
    loaded = state.load(pipeline)
    spec = loaded.spec
    rows: list[dict[str, Any]] = []
    with open_warehouse(state, pipeline, read_only=True) as warehouse:
        for name in spec.sources:
            settings = spec.settings(name)
            kept = warehouse.read_state(spec.pipeline, name)
            if settings.incremental is None and not kept:
                continue
            items: list[tuple[str, StateValue | None]] = list(sorted(kept.items()))
            cursor = settings.incremental is not None and settings.incremental.cursor
            if (cursor or not items) and CURSOR_STATE not in kept:
                items.insert(0, (CURSOR_STATE, None))  # not loaded yet, or reset
            for key, found in items:
                value = json.loads(found.value) if found and found.value else None
                if key == PERIODS_STATE and settings.incremental is not None:
                    value = _periods(settings.incremental.interval, found)
                elif key == FILES_STATE and isinstance(value, dict):
                    value = f"{len(value):,} file(s) read"
                rows.append(
                    {
                        "source": name,
                        "name": key,
                        "column": value.get("column") if isinstance(value, dict) else None,
                        "value": value.get("value") if isinstance(value, dict) else value,
                        "updated_at": found.updated_at if found else None,
                        "load_id": found.load_id if found else None,
                        "set_by": found.run_id if found else None,
                    }
                )
    if as_json:
        sys.stdout.write(json.dumps(rows, default=str, indent=2) + "\n")
        return
    if not rows:
        render.stdout().print(f"Pipeline {spec.pipeline!r} has no incremental sources.")
        return
    out = Table(title=f"state of {spec.pipeline}")
    for column in ("source", "state", "column", "value", "last moved", "by load"):
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(
            row["source"],
            row["name"],
            row["column"] or "",
            "(not loaded yet)" if row["value"] is None else str(row["value"]),
            str(row["updated_at"] or ""),
            row["load_id"] or (row["set_by"] or ""),
        )
    render.stdout().print(out)


def reset(
    state: CliState,
    pipeline: str | None,
    *,
    source: str | None,
    to: str | None,
    yes: bool,
) -> None:
    """Forget a source's cursor (the next run reads from `initial_value`) or set it to ``to``."""
    loaded = state.load(pipeline)
    spec = loaded.spec
    incremental = [
        n
        for n in spec.sources
        if spec.settings(n).incremental is not None
        or state.registry.sources.capabilities(spec.sources[n]).keeps_state  # CDC positions
    ]
    if source is not None and source not in spec.sources:
        raise ConfigError(
            f"pipeline {spec.pipeline!r} has no source {source!r}",
            hint=f"Sources: {', '.join(spec.sources)}",
        )
    targets = [source] if source is not None else incremental
    if to is not None and len(targets) != 1:
        raise ConfigError(
            "--to sets one source's cursor; name it with --source",
            hint=f"Incremental sources: {', '.join(incremental) or '(none)'}",
        )
    what = (
        f"set the cursor of {targets[0]} to {to}"
        if to is not None
        else (
            f"forget the state of {', '.join(targets)}: cursor, files read and processed "
            "periods (the next run starts over from initial_value)"
        )
    )
    if not targets:
        render.stdout().print(f"Pipeline {spec.pipeline!r} has no incremental sources.")
        return
    if not yes and not typer.confirm(f"This will {what}. Continue?", default=False):
        raise typer.Exit(1)
    value = None
    if to is not None:
        settings = spec.settings(targets[0])
        column = settings.incremental.cursor if settings.incremental else None
        value = json.dumps({"column": column, "value": _parsed(to)})
    # Not under a running load: the run would commit its own cursor over this one.
    with (
        PipelineLock(loaded.state_dir, spec.pipeline),
        open_warehouse(state, pipeline, read_only=False) as warehouse,
    ):
        for name in targets:
            names = {CURSOR_STATE}
            if to is None:
                names.update(warehouse.read_state(spec.pipeline, name))
            for key in sorted(names):
                warehouse.set_state(spec.pipeline, name, key, value, by="state reset")
    render.stdout().print(f"Done: {what}.")


def _periods(unit: Any, found: StateValue | None) -> str | None:
    """Processed periods, for people: their span and how many gaps it has."""
    periods = Periods(unit, found.value if found else None)
    span = periods.span()
    if span is None:
        return None
    holes = len(periods.gaps())
    return f"{span[0]} .. {span[1]}, {holes} gap(s)" + (" (state gaps)" if holes else "")


def _parsed(text: str) -> Any:
    """``--to 42`` is a number, ``--to 2024-03-01`` text the cursor's type reads."""
    try:
        number = json.loads(text)
    except ValueError:
        return text
    return number if isinstance(number, int | float) else text
