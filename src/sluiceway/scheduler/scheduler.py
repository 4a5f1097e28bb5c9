"""The scheduler: which scheduled pipelines are due, and their runs started in worker threads.

One :class:`Scheduler` per process (``sluiceway serve``, which owns the warehouse). It is
handed the scheduled pipelines and a ``launch`` function that runs one of them to the end; it
remembers, in the metadata store's ``schedules`` table, the last due time it acted on::

    scheduler = Scheduler(entries, launch=run_pipeline, store=store, clock=SystemClock())
    scheduler.serve(stop)            # until `stop` is set; then waits for the active runs

Each :meth:`Scheduler.tick`, for each enabled pipeline:

1. The first time it sees a pipeline (or when its schedule changed), nothing is missed: the
   state is recorded, and the first fire time is the next one after now. An interval counts
   from this moment (the *anchor*, stored), not from the start of the process.
2. Otherwise, the fire times in ``(last_fire_at, now]`` are due. ``catchup: skip`` runs only
   the latest of them (the others are *missed*); ``catchup: all`` runs the ``catchup_limit``
   most recent, oldest first.
3. The due times are handed to one worker thread, which launches them one after another. Each
   worker is one of the pipeline's ``max_active_runs``; with none free, the due times are
   *skipped* (logged and counted), not queued.
4. ``last_fire_at`` moves to the latest due time and ``next_fire_at`` to the next fire time.

A launch that raises is logged and recorded in the state's details; it never stops the
scheduler. When :meth:`Scheduler.serve` stops, each worker finishes the run it is in; the due
times it had not started yet are handed back (``last_fire_at`` goes back to the last one
started), so the next scheduler catches them up by the pipeline's policy.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Generic, TypeVar

from sluiceway.core.clock import monotonic
from sluiceway.core.redaction import redact
from sluiceway.meta.schedules import ScheduleState, load_schedule_state, save_schedule_state
from sluiceway.meta.store import MetaStore
from sluiceway.scheduler.clock import Clock
from sluiceway.scheduler.triggers import Trigger, trigger_for
from sluiceway.spec.schedule import ScheduleSpec

MAX_PAUSE_S: Final = 1.0
"""The longest :meth:`Scheduler.serve` sleeps between ticks: how soon it notices a stop."""

_MIN_PAUSE_S: Final = 0.001
_STOPPED: Final = "the scheduler stopped before it started; due again at its next start"

log = logging.getLogger(__name__)
# Silent unless the application configures logging: `serve` prints the actions itself (and,
# with --debug, these records with their tracebacks).
log.addHandler(logging.NullHandler())

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class ScheduleEntry(Generic[P]):
    """A scheduled pipeline: its name, its schedule and what the launcher needs to run it."""

    pipeline: str
    spec: ScheduleSpec
    payload: P


Launch = Callable[[ScheduleEntry[P], datetime], str | None]
"""Runs one run of the entry's pipeline, due at the given time, to the end; returns its run id
(or ``None``). Called in a worker thread."""


class ActionKind(StrEnum):
    """What the scheduler did."""

    REGISTERED = "registered"  # first seen (or its schedule changed): nothing missed
    LAUNCHED = "launched"  # handed to a worker, which runs its due times in order
    SKIPPED = "skipped"  # due, but `max_active_runs` runs were active
    MISSED = "missed"  # due while the scheduler was down, dropped by the catch-up policy
    FINISHED = "finished"  # a launch returned (reported by the worker, not by tick)
    FAILED = "failed"  # a launch raised (reported by the worker, not by tick)
    ERROR = "error"  # the scheduler could not handle the pipeline this tick (logged)


@dataclass(frozen=True, slots=True)
class Action:
    """One thing the scheduler did for one pipeline."""

    pipeline: str
    kind: ActionKind
    due_at: datetime | None = None
    count: int = 1
    reason: str | None = None
    run_id: str | None = None


class Scheduler(Generic[P]):
    """Fires scheduled pipelines; see the module docstring.

    ``on_action`` is called with every :class:`Action`, also those of the workers (from their
    threads): the CLI prints them.
    """

    def __init__(
        self,
        entries: Iterable[ScheduleEntry[P]],
        *,
        launch: Launch[P],
        store: MetaStore,
        clock: Clock,
        on_action: Callable[[Action], None] | None = None,
    ) -> None:
        self._entries: dict[str, ScheduleEntry[P]] = {}
        for entry in entries:
            if entry.pipeline in self._entries:
                raise ValueError(f"pipeline {entry.pipeline!r} is scheduled twice")
            self._entries[entry.pipeline] = entry
        self._launch = launch
        self._store = store
        self._clock = clock
        self._on_action = on_action
        self._lock = threading.Lock()  # guards the four dicts below and the state writes
        self._states: dict[str, ScheduleState] = {}
        self._triggers: dict[str, Trigger] = {}
        self._active: dict[str, int] = dict.fromkeys(self._entries, 0)
        self._workers: set[threading.Thread] = set()
        self._stopping = threading.Event()

    @property
    def entries(self) -> Sequence[ScheduleEntry[P]]:
        """The scheduled pipelines, in the order given."""
        return list(self._entries.values())

    def state(self, pipeline: str) -> ScheduleState | None:
        """What the scheduler last recorded of ``pipeline`` (``None`` before its first tick)."""
        with self._lock:
            return self._states.get(pipeline)

    def active_runs(self, pipeline: str) -> int:
        """How many workers of ``pipeline`` are running."""
        with self._lock:
            return self._active[pipeline]

    # -- ticking ---------------------------------------------------------------------------

    def tick(self) -> list[Action]:
        """One pass over the enabled pipelines; returns what it did (also to ``on_action``)."""
        now = self._clock.now()
        actions: list[Action] = []
        for entry in self._entries.values():
            if not entry.spec.enabled or self._stopping.is_set():
                continue
            try:
                done = self._tick_entry(entry, now)
            except Exception as exc:  # a broken store must not stop the other pipelines
                log.exception("scheduler: could not handle pipeline %s", entry.pipeline)
                done = [Action(entry.pipeline, ActionKind.ERROR, reason=_describe(exc))]
            for action in done:
                self._report(action)
            actions.extend(done)
        return actions

    def _tick_entry(self, entry: ScheduleEntry[P], now: datetime) -> list[Action]:
        state = self._stored_state(entry)
        if state is None or not state_matches(state, entry.spec):
            return [self._register(entry, now, previous=state)]
        if state.next_fire_at is not None and now < state.next_fire_at:
            return []
        spec = entry.spec
        trigger = self._trigger(entry, state)
        since = state.last_fire_at or _anchor(state)
        limit = spec.catchup_limit if spec.catchup == "all" else 1
        due = trigger.due(since, now, limit=limit)
        actions: list[Action] = []
        if due.dropped:
            reason = f"not run, by the catch-up policy (catchup: {spec.catchup})"
            actions.append(
                Action(entry.pipeline, ActionKind.MISSED, count=due.dropped, reason=reason)
            )
            log.warning("scheduler: %s: %d missed run(s) not run", entry.pipeline, due.dropped)
        worker: threading.Thread | None = None
        if due.times:
            launched, worker = self._dispatch(entry, state, due.times)
            actions.extend(launched)
        counts = {kind: sum(a.count for a in actions if a.kind is kind) for kind in ActionKind}
        try:
            with self._lock:
                current = self._states[entry.pipeline]
                details = _bump(
                    current.details,
                    launched=counts[ActionKind.LAUNCHED],
                    skipped=counts[ActionKind.SKIPPED],
                    missed=counts[ActionKind.MISSED],
                )
                self._save(
                    replace(
                        current,
                        last_fire_at=due.times[-1] if due.times else current.last_fire_at,
                        next_fire_at=trigger.next_after(now),
                        updated_at=now,
                        details=details,
                    )
                )
        finally:
            # After the save (a stopping worker hands back from it), and even if it failed:
            # the runs are due, and the state kept in memory has moved on.
            if worker is not None:
                with self._lock:
                    self._workers.add(worker)
                worker.start()
        return actions

    def _register(
        self, entry: ScheduleEntry[P], now: datetime, *, previous: ScheduleState | None
    ) -> Action:
        details: dict[str, Any] = {
            "anchor": now.isoformat(),
            "timezone": entry.spec.timezone,
            "launched": 0,
            "skipped": 0,
            "missed": 0,
            "failed": 0,
        }
        reason = "first seen: nothing missed"
        if previous is not None:
            details["changed_from"] = _written(previous.schedule, previous.details)
            reason = f"schedule changed from {details['changed_from']}: nothing missed"
        spec = entry.spec
        trigger = trigger_for(spec, anchor=now)
        with self._lock:
            self._triggers[entry.pipeline] = trigger
            self._save(
                ScheduleState(
                    pipeline=entry.pipeline,
                    schedule=spec.describe(),
                    last_fire_at=None,
                    next_fire_at=trigger.next_after(now),
                    updated_at=now,
                    details=details,
                )
            )
        return Action(entry.pipeline, ActionKind.REGISTERED, reason=reason)

    def _stored_state(self, entry: ScheduleEntry[P]) -> ScheduleState | None:
        """The state of ``entry``: read from the store the first time, then kept."""
        with self._lock:
            state = self._states.get(entry.pipeline)
        if state is None:
            state = load_schedule_state(self._store, entry.pipeline)
            if state is not None:
                with self._lock:
                    self._states[entry.pipeline] = state
        return state

    def _trigger(self, entry: ScheduleEntry[P], state: ScheduleState) -> Trigger:
        with self._lock:
            trigger = self._triggers.get(entry.pipeline)
            if trigger is None:
                trigger = trigger_for(entry.spec, anchor=_anchor(state))
                self._triggers[entry.pipeline] = trigger
            return trigger

    def _dispatch(
        self, entry: ScheduleEntry[P], state: ScheduleState, times: Sequence[datetime]
    ) -> tuple[list[Action], threading.Thread | None]:
        """Take a slot and a worker (not started) for ``times``, or skip them."""
        limit = entry.spec.max_active_runs
        with self._lock:
            active = self._active[entry.pipeline]
            if active >= limit:
                reason = f"{active} run(s) still active (max_active_runs: {limit})"
                for due_at in times:
                    log.warning(
                        "scheduler: %s: run due at %s skipped: %s", entry.pipeline, due_at, reason
                    )
                skipped = [
                    Action(entry.pipeline, ActionKind.SKIPPED, t, reason=reason) for t in times
                ]
                return skipped, None
            self._active[entry.pipeline] = active + 1
            worker = threading.Thread(
                target=self._work,
                args=(entry, tuple(times), state.last_fire_at or _anchor(state)),
                name=f"sluiceway-schedule-{entry.pipeline}",
                daemon=True,
            )
        return [Action(entry.pipeline, ActionKind.LAUNCHED, t) for t in times], worker

    # -- workers ---------------------------------------------------------------------------

    def _work(self, entry: ScheduleEntry[P], times: tuple[datetime, ...], since: datetime) -> None:
        started = since
        try:
            for due_at in times:
                if self._stopping.is_set():
                    self._hand_back(entry, times, started)
                    return
                started = due_at
                self._run(entry, due_at)
        finally:
            with self._lock:
                self._active[entry.pipeline] -= 1
                self._workers.discard(threading.current_thread())

    def _run(self, entry: ScheduleEntry[P], due_at: datetime) -> None:
        try:
            run_id = self._launch(entry, due_at)
        except Exception as exc:  # the launcher's bug or the run's error: never the scheduler's
            log.exception(
                "scheduler: %s: the run due at %s failed to launch", entry.pipeline, due_at
            )
            error = _describe(exc)
            self._record(entry, due_at, run_id=None, error=error)
            self._report(Action(entry.pipeline, ActionKind.FAILED, due_at, reason=error))
            return
        self._record(entry, due_at, run_id=run_id, error=None)
        self._report(Action(entry.pipeline, ActionKind.FINISHED, due_at, run_id=run_id))

    def _record(
        self, entry: ScheduleEntry[P], due_at: datetime, *, run_id: str | None, error: str | None
    ) -> None:
        now = self._clock.now()
        last_run = {
            "due_at": due_at.isoformat(),
            "finished_at": now.isoformat(),
            "run_id": run_id,
            "error": error,
        }
        try:
            with self._lock:
                current = self._states[entry.pipeline]
                details = _bump(current.details, failed=0 if error is None else 1)
                details["last_run"] = last_run
                self._save(replace(current, updated_at=now, details=details))
        except Exception:  # the run is recorded in `runs`; losing this note is survivable
            log.exception(
                "scheduler: %s: could not record the run due at %s", entry.pipeline, due_at
            )

    def _hand_back(
        self, entry: ScheduleEntry[P], times: tuple[datetime, ...], started: datetime
    ) -> None:
        """Stopping: the due times not started go back to being due, for the next scheduler."""
        left = [t for t in times if t > started]
        log.warning(
            "scheduler: %s: %d due run(s) not started: %s", entry.pipeline, len(left), _STOPPED
        )
        for due_at in left:
            self._report(Action(entry.pipeline, ActionKind.SKIPPED, due_at, reason=_STOPPED))
        try:
            with self._lock:
                current = self._states[entry.pipeline]
                if current.last_fire_at == times[-1]:  # no later tick moved it on
                    handed_back = replace(
                        current,
                        last_fire_at=started,
                        next_fire_at=left[0],
                        updated_at=self._clock.now(),
                    )
                    self._save(handed_back)
        except Exception:
            log.exception("scheduler: %s: could not hand back the runs not started", entry.pipeline)

    # -- serving ---------------------------------------------------------------------------

    def serve(self, stop: threading.Event) -> None:
        """Tick until ``stop`` is set, sleeping until the next fire time (at most
        :data:`MAX_PAUSE_S` at a time); then wait for the active runs to finish.

        An exception (KeyboardInterrupt: a second Ctrl-C) stops at once, without waiting.
        """
        self._stopping = stop  # workers start no further due time once it is set
        try:
            while not stop.is_set():
                actions = self.tick()
                if stop.is_set():
                    break
                # A pipeline that failed this tick is still due: retry it, but not in a spin.
                failed = any(a.kind is ActionKind.ERROR for a in actions)
                self._clock.sleep(MAX_PAUSE_S if failed else self.pause())
        finally:
            stop.set()
        self.wait()

    def pause(self) -> float:
        """Seconds until the next fire time of an enabled pipeline, within
        ``[0.001, MAX_PAUSE_S]``."""
        now = self._clock.now()
        with self._lock:
            upcoming = [s.next_fire_at for s in self._states.values() if s.next_fire_at is not None]
        if not upcoming:
            return MAX_PAUSE_S
        seconds = (min(upcoming) - now).total_seconds()
        return min(MAX_PAUSE_S, max(_MIN_PAUSE_S, seconds))

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the active runs to finish (at most ``timeout`` seconds in all); returns
        whether they all did."""
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            with self._lock:
                workers = list(self._workers)
            if not workers:
                return True
            for worker in workers:
                left = None if deadline is None else max(0.0, deadline - monotonic())
                worker.join(left)
                if worker.is_alive():
                    return False

    # -- plumbing --------------------------------------------------------------------------

    def _save(self, state: ScheduleState) -> None:
        """Keep ``state`` and store it; the caller holds the lock. Kept first: if the store
        fails, this process still does not fire the same due times twice."""
        self._states[state.pipeline] = state
        save_schedule_state(self._store, state)

    def _report(self, action: Action) -> None:
        if self._on_action is None:
            return
        try:
            self._on_action(action)
        except Exception:  # printing must not stop scheduling
            log.exception("scheduler: the action listener failed")


def _anchor(state: ScheduleState) -> datetime:
    """When the scheduler first saw the pipeline (intervals count from it)."""
    written = state.details.get("anchor")
    if isinstance(written, str):
        return datetime.fromisoformat(written)
    return state.last_fire_at or state.updated_at


def state_matches(state: ScheduleState, spec: ScheduleSpec) -> bool:
    """Whether ``state`` was recorded for the schedule ``spec`` describes (else the scheduler
    starts it afresh: nothing missed)."""
    return state.schedule == spec.describe() and state.details.get("timezone") == spec.timezone


def _written(schedule: str, details: Mapping[str, Any]) -> str:
    zone = details.get("timezone")
    return schedule if zone in (None, "UTC") else f"{schedule} ({zone})"


def _bump(details: Mapping[str, Any], **counts: int) -> dict[str, Any]:
    out = dict(details)
    for name, count in counts.items():
        out[name] = int(out.get(name, 0)) + count
    return out


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return redact(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)
