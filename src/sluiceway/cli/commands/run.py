"""``sluiceway run``: run a pipeline with live progress and a summary."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from sluiceway.cli import render
from sluiceway.cli.context import CliState
from sluiceway.core.events import EventBus
from sluiceway.engine.runner import PipelineRunner, RunResult
from sluiceway.meta.store import MetaStore
from sluiceway.observe.meta_recorder import MetaRecorder
from sluiceway.observe.progress import ProgressDisplay
from sluiceway.spec.loader import LoadedPipeline


def execute(
    state: CliState,
    pipeline: LoadedPipeline,
    *,
    select: Sequence[str] | None = None,
    as_json: bool = False,
    trigger: str = "cli",
) -> RunResult:
    """Run ``pipeline`` with the sinks the options ask for and print the summary."""
    bus = EventBus()
    err = render.stderr()
    with MetaStore.for_state_dir(pipeline.state_dir) as store:
        bus.subscribe(MetaRecorder(store))
        if state.log_format is not None:
            from sluiceway.observe.logs import EventLogger  # structlog only when asked for

            bus.subscribe(EventLogger(state.log_format))  # type: ignore[arg-type]
        runner = PipelineRunner(pipeline, registry=state.registry, bus=bus, trigger=trigger)
        show_progress = err.is_terminal and state.log_format is None
        if show_progress:
            display = ProgressDisplay(err)
            bus.subscribe(display)
            with display:
                result = runner.run(select)
        else:
            result = runner.run(select)
    for subscriber, error in bus.errors:
        err.print(f"[yellow]warning:[/] {type(subscriber).__name__} failed: {error}")
    if as_json:
        sys.stdout.write(json.dumps(result.as_dict(), indent=2) + "\n")
    else:
        out = render.stdout()
        out.print(render.run_summary(result))
        failures = [s for s in result.steps if s.error is not None]
        if result.error is not None:
            render.print_error(result.error, debug=state.debug)
        for step in failures:
            assert step.error is not None
            err.print(f"[bold]{step.name}[/] ({step.table}):")
            render.print_error(step.error, debug=state.debug)
    return result
