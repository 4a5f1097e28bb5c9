"""``sluiceway plan``, ``pause|resume|cancel|restart RUN_ID`` and ``breakers``."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.table import Table

from sluiceway.cli import render
from sluiceway.cli.context import CliState
from sluiceway.core.errors import ConfigError
from sluiceway.core.redaction import redact
from sluiceway.core.status import StepStatus
from sluiceway.engine.dag import Dag
from sluiceway.engine.runner import PipelineRunner, RunResult
from sluiceway.meta import control
from sluiceway.meta.store import MetaStore
from sluiceway.spec.loader import LoadedPipeline

RERUN = frozenset({StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.BLOCKED, StepStatus.CANCELLED})


def plan_of(state: CliState, pipeline: LoadedPipeline) -> Dag:
    """The DAG a run of ``pipeline`` would execute."""
    from sluiceway.core.events import EventBus

    return PipelineRunner(pipeline, registry=state.registry, bus=EventBus()).plan()


def show_plan(state: CliState, target: str | None, *, as_json: bool) -> None:
    pipeline = state.load(target)
    dag = plan_of(state, pipeline)
    if as_json:
        payload = {"pipeline": pipeline.name, **dag.as_dict()}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    execution = pipeline.spec.execution
    out = render.stdout()
    table = Table(
        title=f"{pipeline.name} · plan · up to {execution.max_workers} step(s) at once",
        title_style="bold",
    )
    for column in ("level", "step", "kind", "table", "after", "resources"):
        table.add_column(column)
    for number, level in enumerate(dag.levels()):
        for name in level:
            step = dag.steps[name]
            reasons = [f"{e.parent} ({e.reason})" for e in dag.edges if e.child == name]
            table.add_row(
                str(number),
                name,
                step.kind,
                step.target or "",
                "\n".join(reasons),
                ", ".join(_limited(r, execution.limits) for r in step.resources),
            )
    out.print(table)
    for note in dag.notes:
        out.print(f"[yellow]note:[/] {redact(note)}")


def _limited(resource: str, limits: dict[str, int]) -> str:
    return f"{resource} (≤{limits[resource]})" if resource in limits else resource


def send(state: CliState, run_id: str, command: control.Command) -> None:
    with MetaStore.for_state_dir(state.state_dir()) as store:
        sent = control.request(store, run_id, command)
    when = {
        "pause": "it pauses at its next batch boundary",
        "resume": "it resumes where it held",
        "cancel": "it stops at its next batch boundary and rolls back the loads in progress",
    }[command]
    render.stdout().print(f"Asked run {sent.run_id} to {command}: {when}.")


def restart(state: CliState, run_id: str, *, as_json: bool) -> RunResult:
    """Re-run the failed, skipped, blocked and cancelled steps of a finished run."""
    from sluiceway.cli.commands.run import execute

    with MetaStore.for_state_dir(state.state_dir()) as store:
        run = store.get_run(run_id)
        records = store.list_steps(run.run_id)
    if not run.status.finished:
        raise ConfigError(
            f"run {run.run_id} is still {run.status}; restart re-runs a finished run's steps",
            hint=f"Wait for it, or `sluiceway cancel {run.run_id}` first.",
        )
    pipeline = state.load(run.pipeline)
    last: dict[str, Any] = {}
    for record in records:  # attempts in order: the last one says how the step ended
        last[record.step] = record.status
    planned = [str(s) for s in run.details.get("steps", [])] or list(last)
    again = [s for s in planned if s not in last or last[s] in RERUN]
    again = [s for s in again if s in pipeline.spec.sources]
    if not again:
        raise ConfigError(
            f"run {run.run_id} has no failed, skipped, blocked or cancelled step to re-run",
            hint="`sluiceway run` starts a new run of every step.",
        )
    err = render.stderr()
    err.print(f"Restarting {', '.join(again)} of run {run.run_id} (committed steps are kept).")
    return execute(state, pipeline, select=again, as_json=as_json, restart_of=run.run_id)


def list_breakers(state: CliState, *, as_json: bool) -> None:
    with MetaStore.for_state_dir(state.state_dir()) as store:
        records = control.MetaBreakerStore(store).all()
    if as_json:
        rows = [
            {
                "endpoint": r.endpoint,
                "state": r.state,
                "failures": r.failures,
                "opened_at": r.opened_at.isoformat() if r.opened_at else None,
                "last_error": r.last_error,
                "run_id": r.run_id,
            }
            for r in records
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    if not records:
        render.stdout().print("No circuit breaker has counted a failure yet.")
        return
    table = Table(title="circuit breakers", title_style="bold")
    for column in ("endpoint", "state", "failures", "opened", "last error"):
        table.add_column(column)
    for r in records:
        table.add_row(
            r.endpoint,
            r.state.replace("_", "-"),
            str(r.failures),
            f"{r.opened_at:%Y-%m-%d %H:%M:%S}" if r.opened_at else "",
            redact(r.last_error or ""),
        )
    render.stdout().print(table)


def reset_breaker(state: CliState, endpoint: str) -> None:
    from sluiceway.core.endpoints import normalize_endpoint

    name = normalize_endpoint(endpoint)
    with MetaStore.for_state_dir(state.state_dir()) as store:
        control.MetaBreakerStore(store).reset(name)
    render.stdout().print(f"Closed the circuit breaker of {name}.")
