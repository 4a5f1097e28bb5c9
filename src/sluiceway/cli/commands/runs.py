"""``sluiceway runs`` and ``sluiceway runs show RUN_ID``."""

from __future__ import annotations

import json
import sys

from rich.text import Text

from sluiceway.cli import render
from sluiceway.cli.commands.explain import plan_tree
from sluiceway.cli.context import CliState
from sluiceway.core.redaction import redact, redact_deep
from sluiceway.core.status import RunStatus
from sluiceway.meta import plans
from sluiceway.meta.store import MetaStore


def list_runs(
    state: CliState, *, limit: int, pipeline: str | None, status: str | None, as_json: bool
) -> None:
    with MetaStore.for_state_dir(state.state_dir()) as store:
        runs = store.list_runs(
            limit=limit, pipeline=pipeline, status=RunStatus(status) if status else None
        )
    if as_json:
        records = [render.record_dict(r) for r in runs]
        sys.stdout.write(json.dumps(redact_deep(records), indent=2) + "\n")
        return
    if not runs:
        render.stdout().print("No runs yet. `sluiceway run` starts one.")
        return
    render.stdout().print(render.runs_table(runs))


def show_run(state: CliState, run_id: str, *, as_json: bool) -> None:
    with MetaStore.for_state_dir(state.state_dir()) as store:
        run = store.get_run(run_id)
        steps = store.list_steps(run.run_id)
    if as_json:
        payload = render.record_dict(run)
        payload["steps"] = [render.record_dict(s) for s in steps]
        sys.stdout.write(json.dumps(redact_deep(payload), indent=2) + "\n")
        return
    out = render.stdout()
    out.print(render.steps_table(run, steps))
    if run.error_message:
        out.print(Text(redact(run.error_message), style="red"))


def show_plans(state: CliState, run_id: str, step: str | None, *, as_json: bool) -> None:
    """The query plans stored with a run (``models.explain``), of every model step or one."""
    with MetaStore.for_state_dir(state.state_dir()) as store:
        run = store.get_run(run_id)
        found = plans.list_plans(store, run.run_id, step)
    if as_json:
        records = [
            {
                "step": p.step,
                "attempt": p.attempt,
                "dialect": p.dialect,
                "analyzed": p.analyzed,
                "sql": p.sql,
                "plan": p.plan,
                "error": p.error,
                "captured_at": p.captured_at.isoformat(),
            }
            for p in found
        ]
        sys.stdout.write(json.dumps(records, indent=2, default=str) + "\n")
        return
    out = render.stdout()
    if not found:
        which = f"step {step!r} of run {run.run_id}" if step else f"run {run.run_id}"
        out.print(
            f"No query plans stored for {which}: plans are captured for SQL and operations "
            "models (`models.explain`: plan or analyze)."
        )
        return
    for plan in found:
        title = f"{plan.step} · attempt {plan.attempt} · {plan.dialect}"
        out.print(Text(plan.sql, style="dim"))
        if plan.plan is None:
            out.print(Text(f"{title}: no plan ({plan.error})", style="yellow"))
            continue
        out.print(plan_tree(plan.plan, analyzed=plan.analyzed, title=title))
