"""``sluiceway run``: run a pipeline with live progress and a summary."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence

from sluiceway.cli import render
from sluiceway.cli.context import CliState
from sluiceway.core.events import EventBus
from sluiceway.engine.quality_store import MetaQualityLog
from sluiceway.engine.replay import SourceReplay
from sluiceway.engine.runner import PipelineRunner, RunResult
from sluiceway.engine.schema_store import MetaSchemaRegistry
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
    print_json: bool = True,
    replay: Mapping[str, SourceReplay] | None = None,
) -> RunResult:
    """Run ``pipeline`` with the sinks the options ask for and print the summary.

    With ``as_json`` the summary is JSON on stdout (unless ``print_json`` is off: the caller
    prints several runs as one document).
    """
    bus = EventBus()
    err = render.stderr()
    with MetaStore.for_state_dir(pipeline.state_dir) as store:
        bus.subscribe(MetaRecorder(store))
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
        )
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
        if print_json:
            sys.stdout.write(json.dumps(result.as_dict(), indent=2) + "\n")
    else:
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
        for step in failures:
            assert step.error is not None
            err.print(f"[bold]{step.name}[/] ({step.table}):")
            render.print_error(step.error, debug=state.debug)
    return result
