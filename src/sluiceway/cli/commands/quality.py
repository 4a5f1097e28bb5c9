"""``sluiceway quality TABLE``, ``quality report RUN_ID``, ``quality suggest TABLE``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from sluiceway.cli import render
from sluiceway.cli.context import CliState
from sluiceway.core.errors import NotFoundError
from sluiceway.engine.quality_store import MetaQualityLog
from sluiceway.meta.store import MetaStore
from sluiceway.quality.history import QualityEntry

_BAR = "▁▂▃▄▅▆▇█"


def _spark(scores: list[float]) -> str:
    return "".join(_BAR[min(int(s / 100 * (len(_BAR) - 1) + 0.5), len(_BAR) - 1)] for s in scores)


def _history(state: CliState, table: str, pipeline: str | None, limit: int) -> list[QualityEntry]:
    warehouse = state.warehouse(pipeline).describe()
    with MetaStore.for_state_dir(state.state_dir()) as store:
        entries = MetaQualityLog(store).history(warehouse, table, limit)
        if not entries:
            known = sorted(t for _, t in store.quality_tables(warehouse))
            raise NotFoundError(
                f"no quality history for table {table!r} in {warehouse}",
                hint=f"Tables with one: {', '.join(known) or 'none yet'}. A table gets one when "
                "a pipeline loads it with checks or profiling on.",
            )
    return entries


def trend(state: CliState, table: str, *, pipeline: str | None, limit: int, as_json: bool) -> None:
    """The score of the table's last loads, oldest first, and what failed in the latest."""
    entries = _history(state, table, pipeline, limit)
    if as_json:
        payload = [
            {
                "load_id": e.load_id,
                "run_id": e.run_id,
                "checked_at": e.checked_at.isoformat(),
                "committed": e.committed,
                "rows": e.rows,
                "score": e.score,
                "dimensions": e.dimensions,
                "failed": [r["rule_id"] for r in e.results if not r["passed"]],
            }
            for e in reversed(entries)
        ]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    out = render.stdout()
    scored = [e.score for e in reversed(entries) if e.score is not None]
    title = f"quality of {table}"
    if scored:
        title += f"  {_spark(scored)}  {scored[0]:.1f} → {scored[-1]:.1f}"
    grid = Table(title=title)
    for column in ("checked at", "load", "rows", "score", "dimensions", "failed rules"):
        grid.add_column(column, overflow="fold")
    for entry in reversed(entries):
        dims = " ".join(f"{k[:4]} {v:.0f}" for k, v in (entry.dimensions or {}).items())
        failed = [r["rule_id"] for r in entry.results if not r["passed"]]
        score = "-" if entry.score is None else f"{entry.score:.1f}"
        style = "green" if entry.score is not None and entry.score >= 95 else "yellow"
        grid.add_row(
            entry.checked_at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.load_id[-8:] + ("" if entry.committed else " (rolled back)"),
            str(entry.rows),
            Text(score, style=style),
            dims,
            ", ".join(failed) or "-",
        )
    out.print(grid)


def report(
    state: CliState,
    run_id: str,
    *,
    html: Path | None,
    json_out: Path | None,
) -> None:
    """A run's quality report: JSON on stdout (or a file) and an HTML page that opens offline."""
    from sluiceway.quality.report import run_report
    from sluiceway.quality.report_html import render_html

    with MetaStore.for_state_dir(state.state_dir()) as store:
        run = store.get_run(run_id)
        steps = store.list_steps(run.run_id)
        log = MetaQualityLog(store)
        entries = run_entries(store, run.run_id)
        info: dict[str, Any] = {
            "run_id": run.run_id,
            "pipeline": run.pipeline,
            "status": run.status.value,
            "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "rows_read": run.rows_in,
            "rows_loaded": run.rows_out,
            "rows_rejected": run.rows_rejected,
            "steps": {
                s.step: {
                    "rows_read": s.rows_in,
                    "rows_loaded": s.rows_out,
                    "rows_rejected": s.rows_rejected,
                }
                for s in steps
            },
        }
        document = run_report(info, entries, log)
    if not entries:
        raise NotFoundError(
            f"run {run.run_id} checked no table",
            hint="Add `checks:` to a source, or keep `quality: {profile: true}` (the default).",
        )
    text = json.dumps(document, indent=2, default=str) + "\n"
    if json_out is not None:
        json_out.write_text(text, encoding="utf-8")
    if html is not None:
        html.write_text(render_html(document), encoding="utf-8")
        render.stderr().print(f"Wrote {html} ({len(entries)} table(s)); it opens offline.")
    if html is None and json_out is None:
        sys.stdout.write(text)


def run_entries(store: MetaStore, run_id: str) -> list[QualityEntry]:
    from sluiceway.engine.quality_store import entry

    return [entry(r) for r in store.quality_for_run(run_id)]


def suggest(state: CliState, table: str, *, pipeline: str | None) -> None:
    """Profile the table and print the rules its data satisfies, as YAML for ``checks:``."""
    from sluiceway.cli.commands.profile import profile_warehouse_table
    from sluiceway.quality.suggest import MAX_ACCEPTED_VALUES, suggestions_yaml

    # Enough top values to list every value of a column short enough for accepted_values;
    # no lineage columns: their values change with every load and rules never see them.
    profile = profile_warehouse_table(
        state, table, pipeline=pipeline, top_n=MAX_ACCEPTED_VALUES, skip_system=True
    )
    sys.stdout.write(suggestions_yaml(profile))
