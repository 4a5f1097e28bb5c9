"""``sluiceway state gaps``: periods of a time cursor that no load processed.

``sluiceway backfill`` itself is a run (``cli.commands.run.execute`` with a ``Backfill``);
this module reads what runs and backfills recorded.
"""

from __future__ import annotations

import json
import shlex
import sys
from typing import Any

from rich.table import Table

from sluiceway.cli import render
from sluiceway.cli.commands.query import open_warehouse
from sluiceway.cli.context import CliState
from sluiceway.core.errors import ConfigError
from sluiceway.engine.periods import PERIODS_STATE, Periods


def gaps(state: CliState, pipeline: str | None, *, source: str | None, as_json: bool) -> int:
    """Print every gap (as a table, or JSON) and return how many there are."""
    loaded = state.load(pipeline)
    spec = loaded.spec
    if source is not None and source not in spec.sources:
        raise ConfigError(
            f"pipeline {spec.pipeline!r} has no source named {source!r}",
            hint=f"Sources: {', '.join(spec.sources)}",
        )
    names = [source] if source else list(spec.sources)
    rows: list[dict[str, Any]] = []
    tracked: list[str] = []
    with open_warehouse(state, pipeline, read_only=True) as warehouse:
        for name in names:
            incremental = spec.settings(name).incremental
            kept = warehouse.read_state(spec.pipeline, name).get(PERIODS_STATE)
            if incremental is None or kept is None:
                continue
            periods = Periods(incremental.interval, kept.value)
            tracked.append(name)
            for gap in periods.gaps():
                found = gap.as_dict()
                command = (
                    f"sluiceway backfill {shlex.quote(spec.pipeline)} --source {name} "
                    f"--from {found['from']} --to {found['to']}"
                )
                rows.append({"source": name, **found, "backfill": command})
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return len(rows)
    out = render.stdout()
    if not tracked:
        out.print(
            f"No source of {spec.pipeline!r} has processed periods yet (time cursors record "
            "them as they load)."
        )
        return 0
    if not rows:
        out.print(f"No gaps: {', '.join(tracked)} processed every period in their span.")
        return 0
    table = Table(title=f"gaps in {spec.pipeline}")
    for column in ("source", "from", "to (excluded)", "periods", "fill with"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row["source"],
            row["from"],
            row["to"],
            f"{row['periods']} {row['unit']}(s)",
            row["backfill"],
        )
    out.print(table)
    return len(rows)
