"""``sluiceway serve``: run the project's scheduled pipelines, in one process.

It loads every pipeline file of the project, schedules those with a ``schedule:`` and runs
them when due (see :mod:`sluiceway.scheduler.scheduler`) until Ctrl-C or SIGTERM. The first
signal stops scheduling and waits for the active runs; a second one stops at once (the runs'
open loads roll back, and they are recorded as failed when next looked at).

Only one ``serve`` runs per state folder: it owns the warehouse and the schedule state.
``--once`` ticks once (runs what is due, catching up by each pipeline's policy), waits for
those runs and exits: for tests, and for a system cron that calls it every few minutes.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

from rich.markup import escape

from sluiceway.cli import render
from sluiceway.cli.commands.run import execute
from sluiceway.cli.commands.schedules import (
    SCHEDULE_TRIGGER,
    ProjectSchedules,
    project_schedules,
    report_problems,
    schedules_table,
)
from sluiceway.cli.context import CliState
from sluiceway.core.clock import utcnow
from sluiceway.core.errors import PipelineLockedError
from sluiceway.core.redaction import redact
from sluiceway.core.status import RunStatus
from sluiceway.engine.run_lock import PipelineLock
from sluiceway.engine.runner import RunResult
from sluiceway.meta.schedules import ScheduleState
from sluiceway.meta.store import MetaStore
from sluiceway.scheduler.clock import Clock, SystemClock
from sluiceway.scheduler.scheduler import Action, ActionKind, ScheduleEntry, Scheduler
from sluiceway.spec.loader import LoadedPipeline
from sluiceway.warehouses.base import WarehouseContext

SERVE_LOCK = "_serve"
"""The name of the lock (in the state folder's ``locks/``) a running ``serve`` holds."""

_TIME = "%Y-%m-%d %H:%M:%S"


def serve(
    state: CliState,
    *,
    once: bool,
    clock: Clock | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Schedule the project's pipelines until stopped (``once``: one tick); the exit code.

    1 when a pipeline file does not load, or (``once``) when a run failed or could not be
    launched; else 0. ``clock`` and ``stop`` are for tests: the default is the system clock,
    and a stop event set by SIGINT or SIGTERM.
    """
    project = project_schedules(state)
    report_problems(project, debug=state.debug)
    out = render.stdout()
    if not project.scheduled:
        out.print("Nothing to schedule: no pipeline of this project has a `schedule:`.")
        return 1 if project.broken else 0
    launcher = PipelineLauncher(state)
    printer = ActionPrinter(launcher)
    state_dir = project.state_dir
    with (
        _serve_lock(state_dir),
        _scheduler_log(debug=state.debug),
        MetaStore.for_state_dir(state_dir) as store,
    ):
        scheduler: Scheduler[LoadedPipeline] = Scheduler(
            project.scheduled,
            launch=launcher,
            store=store,
            clock=clock or SystemClock(),
            on_action=printer,
        )
        scheduler.tick()
        out.print(schedules_table(scheduler.entries, _states(scheduler)))
        if not once:
            render.stderr().print(
                "Scheduling. Ctrl-C stops (after the active runs finish); twice stops at once."
            )
        printer.release()
        if once:
            scheduler.wait()
        else:
            stop = stop or threading.Event()
            with _stop_on_signals(stop):
                scheduler.serve(stop)
    return _exit_code(project, launcher, printer, once=once)


LOCK_WAIT_S = 3600.0  # how long a scheduled run waits for the pipeline's previous run


class PipelineLauncher:
    """Runs one scheduled run of a pipeline, recorded with trigger ``schedule``.

    Pipelines loading into one single-writer warehouse (a DuckDB file) take turns: their
    runs in this process would otherwise conflict on the file's catalog. The wait counts as
    part of the run (it holds one of the pipeline's ``max_active_runs``).
    """

    def __init__(self, state: CliState) -> None:
        self._state = state
        self._lock = threading.Lock()
        self._writers: dict[str, threading.Lock] = {}
        self.results: dict[str, RunResult] = {}

    def __call__(self, entry: ScheduleEntry[LoadedPipeline], due_at: datetime) -> str | None:
        pipeline = entry.payload
        with self._writer(pipeline):
            # JSON mode without printing: `serve` prints one line per run (ActionPrinter).
            result = execute(
                self._state,
                pipeline,
                trigger=SCHEDULE_TRIGGER,
                as_json=True,
                print_json=False,
                progress=False,  # runs may overlap: their bars would draw over each other
                # Runs of one pipeline take its lock in turn (max_active_runs > 1 queues them).
                lock_wait=LOCK_WAIT_S,
            )
        with self._lock:
            self.results[result.run_id] = result
        return result.run_id

    def result(self, run_id: str | None) -> RunResult | None:
        with self._lock:
            return None if run_id is None else self.results.get(run_id)

    def _writer(self, pipeline: LoadedPipeline) -> AbstractContextManager[object]:
        """The turn to take before running ``pipeline``: its warehouse's, if single-writer."""
        warehouse = self._state.registry.warehouses.create(  # not opened: only its identity
            pipeline.spec.warehouse, WarehouseContext(pipeline.state_dir, pipeline.resolve)
        )
        if not warehouse.capabilities.single_writer:
            return nullcontext()
        with self._lock:
            return self._writers.setdefault(warehouse.describe(), threading.Lock())


class ActionPrinter:
    """Prints what the scheduler does, one line each; held back until :meth:`release` (so
    the first tick's lines come after the table of schedules)."""

    def __init__(self, launcher: PipelineLauncher) -> None:
        self._launcher = launcher
        self._lock = threading.Lock()
        self._held: list[Action] | None = []
        self.failures = 0

    def __call__(self, action: Action) -> None:
        with self._lock:
            if action.kind in (ActionKind.FAILED, ActionKind.ERROR):
                self.failures += 1
            if self._held is not None:
                self._held.append(action)
            else:
                self._print(action)

    def release(self) -> None:
        with self._lock:
            held, self._held = self._held or [], None
            for action in held:
                self._print(action)

    def _print(self, action: Action) -> None:
        render.stderr().print(f"[dim]{_stamp(utcnow())}[/] {self._line(action)}")

    def _line(self, action: Action) -> str:
        name = f"[bold]{escape(action.pipeline)}[/]"
        due = f"due {_stamp(action.due_at)}" if action.due_at is not None else ""
        reason = escape(redact(action.reason or ""))
        match action.kind:
            case ActionKind.REGISTERED:
                return f"{name}: {reason}"
            case ActionKind.LAUNCHED:
                return f"{name}: run {due} starting"
            case ActionKind.SKIPPED:
                return f"{name}: [yellow]run {due} skipped[/]: {reason}"
            case ActionKind.MISSED:
                return f"{name}: [yellow]{action.count} missed run(s) not run[/]: {reason}"
            case ActionKind.FINISHED:
                return f"{name}: run {due} {self._outcome(action.run_id)}"
            case ActionKind.FAILED:
                return f"{name}: [red]run {due} could not run[/]: {reason}"
            case ActionKind.ERROR:
                return f"{name}: [red]scheduler error[/]: {reason}"

    def _outcome(self, run_id: str | None) -> str:
        result = self._launcher.result(run_id)
        if result is None:
            return f"finished ({run_id or 'no run id'})"
        style = render.STATUS_STYLE.get(result.status.value, "")
        return (
            f"{result.run_id} [{style}]{result.status.value}[/]: {result.rows_loaded:,} row(s) "
            f"loaded, {result.rows_rejected:,} rejected, in {result.duration_s:.1f}s"
        )


@contextmanager
def _serve_lock(state_dir: Path) -> Iterator[None]:
    lock = PipelineLock(state_dir, SERVE_LOCK)
    try:
        lock.acquire()
    except PipelineLockedError as exc:
        holder = lock.holder()
        who = f" ({holder.describe()})" if holder is not None else ""
        raise PipelineLockedError(
            f"`sluiceway serve` is already running for {state_dir}{who}",
            pipeline=SERVE_LOCK,
            pid=holder.pid if holder is not None else None,
            hint="One process schedules a project and owns its warehouse; stop the other one "
            "first.",
        ) from exc
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _scheduler_log(*, debug: bool) -> Iterator[None]:
    """With --debug, the scheduler's log records (failed launches with their traceback)."""
    if not debug:
        yield
        return
    logger = logging.getLogger("sluiceway.scheduler")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT or SIGTERM sets ``stop``; a second one raises KeyboardInterrupt (exit 130)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        render.stderr().print(
            "Stopping: no new runs; waiting for the active ones (again to stop at once)."
        )

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _states(scheduler: Scheduler[LoadedPipeline]) -> dict[str, ScheduleState]:
    return {
        entry.pipeline: state
        for entry in scheduler.entries
        if (state := scheduler.state(entry.pipeline)) is not None
    }


def _exit_code(
    project: ProjectSchedules, launcher: PipelineLauncher, printer: ActionPrinter, *, once: bool
) -> int:
    if project.broken:
        return 1
    if not once:
        return 0
    unsuccessful = [r for r in launcher.results.values() if r.status is not RunStatus.SUCCEEDED]
    return 1 if unsuccessful or printer.failures else 0


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_TIME)
