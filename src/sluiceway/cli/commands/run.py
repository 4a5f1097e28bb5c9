"""``sluiceway run``: run a pipeline with live progress and a summary."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.markup import escape

from sluiceway.cli import render
from sluiceway.cli.context import CliState
from sluiceway.core.events import EventBus
from sluiceway.core.redaction import redact, redact_deep
from sluiceway.core.status import RunStatus
from sluiceway.engine.breakers import CircuitBreakers
from sluiceway.engine.control import RunControlWatcher
from sluiceway.engine.incremental import Backfill
from sluiceway.engine.quality_store import MetaQualityLog
from sluiceway.engine.replay import SourceReplay
from sluiceway.engine.runner import PipelineRunner, RunResult
from sluiceway.engine.schema_store import MetaSchemaRegistry
from sluiceway.meta.control import MetaBreakerStore
from sluiceway.meta.store import MetaStore
from sluiceway.observe.lineage_recorder import LineageRecorder
from sluiceway.observe.meta_recorder import MetaRecorder
from sluiceway.observe.progress import ProgressDisplay
from sluiceway.sources.base import CancelToken
from sluiceway.spec.loader import LoadedPipeline
from sluiceway.warehouses.base import WarehouseContext

if TYPE_CHECKING:
    from sluiceway.observe.openlineage import OpenLineageEmitter


@contextmanager
def cancel_on_interrupt(token: CancelToken) -> Iterator[list[int]]:
    """The first Ctrl-C cancels the run at the next batch boundary; a second one is abrupt.

    Cancelling through the token, rather than raising wherever Python happens to be, lets
    the runner roll back and record the run as cancelled even when the signal lands inside
    a DuckDB scan of a batch stream. Yields the signals received.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def on_interrupt(signum: int, frame: object) -> None:
        if received:
            raise KeyboardInterrupt
        received.append(signum)
        token.cancel("interrupted")

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield received
    finally:
        signal.signal(signal.SIGINT, previous)


def execute(
    state: CliState,
    pipeline: LoadedPipeline,
    *,
    select: Sequence[str] | None = None,
    as_json: bool = False,
    trigger: str = "cli",
    print_json: bool = True,
    replay: Mapping[str, SourceReplay] | None = None,
    backfill: Backfill | None = None,
    restart_of: str | None = None,
    progress: bool = True,
    lock_wait: float = 0.0,
) -> RunResult:
    """Run ``pipeline`` with the sinks the options ask for and print the summary.

    With ``as_json`` the summary is JSON on stdout (unless ``print_json`` is off: the caller
    prints several runs as one document).
    """
    bus = EventBus()
    err = render.stderr()
    with MetaStore.for_state_dir(pipeline.state_dir) as store:
        bus.subscribe(MetaRecorder(store))
        lineage = LineageRecorder(store)
        bus.subscribe(lineage)
        openlineage = _openlineage(state, pipeline)
        if openlineage is not None:
            bus.subscribe(openlineage)
        if state.log_format is not None:
            from sluiceway.observe.logs import EventLogger  # structlog only when asked for

            bus.subscribe(EventLogger(state.log_format))  # type: ignore[arg-type]
        runner = PipelineRunner(
            pipeline,
            registry=state.registry,
            bus=bus,
            trigger=trigger,
            schemas=MetaSchemaRegistry(store),
            quality=MetaQualityLog(store),
            replay=replay,
            backfill=backfill,
            breakers=CircuitBreakers(MetaBreakerStore(store), pipeline.spec.execution.breaker),
            restart_of=restart_of,
            lock_wait=lock_wait,
        )
        show_progress = progress and err.is_terminal and state.log_format is None
        watcher = RunControlWatcher(
            store, run_id=runner.run_id, pipeline=pipeline.name, token=runner.cancel, bus=bus
        )
        try:
            with cancel_on_interrupt(runner.cancel) as interrupted, watcher:
                if show_progress:
                    display = ProgressDisplay(err)
                    bus.subscribe(display)
                    with display:
                        result = runner.run(select)
                else:
                    result = runner.run(select)
        finally:
            if openlineage is not None:
                openlineage.close()  # sends what the transport still holds
        if interrupted and result.status is RunStatus.CANCELLED:
            raise KeyboardInterrupt  # the CLI says "Interrupted." and exits with 130
    _print_notes(
        bus,
        lineage=lineage.notes,
        openlineage=openlineage.notes if openlineage is not None else [],
    )
    if as_json:
        if print_json:
            sys.stdout.write(json.dumps(redact_deep(result.as_dict()), indent=2) + "\n")
    else:
        _print_summary(state, result)
    return result


def _print_notes(bus: EventBus, *, lineage: list[str], openlineage: list[str]) -> None:
    """What the run's records could not do (they never fail the run), on stderr."""
    err = render.stderr()
    for note in lineage:
        err.print(f"[yellow]lineage:[/] {escape(redact(note))}")
    for note in openlineage:
        err.print(f"[yellow]openlineage:[/] {escape(redact(note))}")
    for subscriber, error in bus.errors:
        err.print(
            f"[yellow]warning:[/] {type(subscriber).__name__} failed: {escape(redact(str(error)))}"
        )


def _openlineage(state: CliState, pipeline: LoadedPipeline) -> OpenLineageEmitter | None:
    """The OpenLineage emitter the pipeline asks for (``openlineage:``), or None. One that
    cannot be set up (a state folder that cannot be written, say) is a warning: lineage is a
    record of the run, never a reason not to run."""
    if pipeline.spec.openlineage is None:
        return None
    from sluiceway.observe.openlineage import OpenLineageEmitter  # the client, only when asked

    try:
        warehouse = state.registry.warehouses.create(
            pipeline.spec.warehouse, WarehouseContext(pipeline.state_dir, pipeline.resolve)
        )
        return OpenLineageEmitter.for_pipeline(pipeline, warehouse)
    except Exception as exc:
        render.stderr().print(
            f"[yellow]openlineage:[/] no events for this run: "
            f"{escape(redact(f'{type(exc).__name__}: {exc}'))}"
        )
        return None


def _print_summary(state: CliState, result: RunResult) -> None:
    err = render.stderr()
    out = render.stdout()
    out.print(render.run_summary(result))
    failures = [s for s in result.steps if s.error is not None]
    if result.error is not None:
        render.print_error(result.error, debug=state.debug)
    for step in result.steps:
        if step.schema_notes:
            version = f" (schema version {step.schema_version})" if step.schema_version else ""
            out.print(f"[bold]{step.table}[/]{version}:")
            for note in step.schema_notes:
                out.print(f"  · {note}")
        if step.notes:
            out.print(f"[bold]{step.name}[/]:")
            for note in step.notes:
                out.print(f"  · {note}")
    for step in failures:
        assert step.error is not None
        err.print(f"[bold]{step.name}[/] ({step.table}):")
        render.print_error(step.error, debug=state.debug)
