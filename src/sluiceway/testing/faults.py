"""Fault scripts: what a ``faulty`` source or ``faulty_duckdb`` warehouse does wrong, and when.

A pipeline names a script (``script: flaky_api``); a test configures it by that name before the
run and reads back what happened after it::

    from sluiceway.testing import faults

    api = faults.script("flaky_api").fail(2, error="transient")  # the next two reads fail
    ...run the pipeline...
    assert api.calls == 3  # two failures, then a read that got through

Scripts live in one process-global :class:`Faults` registry, :data:`faults`, so a pipeline
loaded from YAML and a test share them without passing objects around. Everything here is
thread-safe: the engine reads sources and loads tables from several threads at once.

What a script can do to a **source read** (:class:`~sluiceway.testing.FaultySource`):

- fail: the next ``times`` reads raise, just before yielding batch ``at_batch`` (0: before any
  row), an error of a given class (:meth:`FaultScript.fail`), or every read does until
  :meth:`FaultScript.heal` (:meth:`FaultScript.fail_always`);
- hold: reads block just before batch ``at_batch`` until :meth:`FaultScript.release`, still
  noticing cancellation (:meth:`FaultScript.hold`, :meth:`FaultScript.wait_held`);
- call back after each batch (:meth:`FaultScript.on_batch`), to pause or cancel a run at a
  known point.

What it can do to a **load** (:class:`~sluiceway.testing.FaultyWarehouse`): fail when the load
begins or at its commit (:meth:`FaultScript.fail_warehouse`).

Batch boundaries are numbered 0 (before the first batch) to *n* (after the last of *n*
batches, before the read ends). A fault or hold placed past the last boundary happens at the
last one, so a scripted fault is never lost because a source had fewer batches than expected.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, Self

from sluiceway.core.errors import (
    MalformedInputError,
    SchemaError,
    SluicewayError,
    SourceError,
    SourceUnavailableError,
    WarehouseError,
    WarehouseUnavailableError,
    classify,
)
from sluiceway.sources.base import CancelToken

if TYPE_CHECKING:
    from sluiceway.engine.registry import Registry

ErrorKind = Literal["transient", "data", "schema", "terminal"]
"""The error class a scripted source failure has (see :mod:`sluiceway.core.errors`)."""
WarehouseErrorKind = Literal["transient", "terminal"]
"""The error class a scripted load failure has."""
LoadStage = Literal["begin", "commit"]
"""Where a scripted load failure happens: when the load begins, or at its commit."""

SOURCE_ERRORS: dict[str, type[SluicewayError]] = {
    "transient": SourceUnavailableError,
    "data": MalformedInputError,
    "schema": SchemaError,
    "terminal": SourceError,
}
WAREHOUSE_ERRORS: dict[str, type[SluicewayError]] = {
    "transient": WarehouseUnavailableError,
    "terminal": WarehouseError,
}
# How often a held read looks at its cancel token: short enough that a cancelled test run ends
# at once, long enough not to spin.
HOLD_POLL_S = 0.02
HINT = "This failure was scripted with sluiceway.testing; heal() the script to stop it."


@dataclass(slots=True)
class ReadRecord:
    """One read of a ``faulty`` source, as its script saw it (times are ``time.monotonic()``)."""

    started: float
    finished: float | None = None  # None while the read is in flight
    batches: int = 0  # batches yielded
    error_class: str | None = None  # the ErrorClass of what the read raised; None if nothing
    thread: str = ""  # the name of the thread that read
    endpoint: str | None = None  # the source's ``endpoint`` at read time


@dataclass(frozen=True, slots=True)
class _Failure:
    kind: str
    where: int | str  # a batch boundary (reads) or a LoadStage (loads)
    message: str | None


@dataclass(slots=True)
class _Queued:
    failure: _Failure
    remaining: int


class _FailurePlan:
    """Failures queued for a number of tries each, then an optional standing one."""

    def __init__(self) -> None:
        self._queue: deque[_Queued] = deque()
        self.always: _Failure | None = None

    def add(self, failure: _Failure, times: int) -> None:
        self._queue.append(_Queued(failure, times))

    def take(self) -> _Failure | None:
        """The failure the next try gets (counting it down), or ``None``."""
        if not self._queue:
            return self.always
        head = self._queue[0]
        head.remaining -= 1
        if head.remaining == 0:
            self._queue.popleft()
        return head.failure

    def clear(self) -> None:
        self._queue.clear()
        self.always = None


class EndpointGauge:
    """Reads in flight per endpoint, and the most there ever were at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now: dict[str, int] = {}
        self._peak: dict[str, int] = {}

    def enter(self, endpoint: str | None) -> None:
        if endpoint is None:
            return
        with self._lock:
            now = self._now.get(endpoint, 0) + 1
            self._now[endpoint] = now
            self._peak[endpoint] = max(self._peak.get(endpoint, 0), now)

    def leave(self, endpoint: str | None) -> None:
        if endpoint is None:
            return
        with self._lock:
            self._now[endpoint] -= 1

    def in_flight(self, endpoint: str) -> int:
        with self._lock:
            return self._now.get(endpoint, 0)

    def max_concurrent(self, endpoint: str) -> int:
        with self._lock:
            return self._peak.get(endpoint, 0)


class FaultScript:
    """What one named fake does wrong, and a record of what it did. Thread-safe.

    Configuring methods return the script, so they chain::

        faults.script("api").fail(2).fail(1, error="data", at_batch=3).on_batch(print)
    """

    def __init__(self, name: str, *, endpoints: EndpointGauge | None = None) -> None:
        self.name = name
        self._endpoints = endpoints if endpoints is not None else EndpointGauge()
        self._cond = threading.Condition()
        self._read_plan = _FailurePlan()
        self._load_plans: dict[str, _FailurePlan] = {
            "begin": _FailurePlan(),
            "commit": _FailurePlan(),
        }
        self._hold_at: int | None = None
        self._released = threading.Event()
        self._held = 0
        self._callback: Callable[[int], None] | None = None
        self._reads: list[ReadRecord] = []
        self._in_flight = 0
        self._max_concurrent = 0
        self._loads = 0

    def __repr__(self) -> str:
        return f"FaultScript({self.name!r})"

    # -- configuring: sources ----------------------------------------------------------------

    def fail(
        self,
        times: int = 1,
        *,
        error: ErrorKind = "transient",
        at_batch: int = 0,
        message: str | None = None,
    ) -> Self:
        """The next ``times`` reads raise, just before yielding batch ``at_batch``.

        ``error`` picks the class: ``transient`` raises ``SourceUnavailableError``, ``data``
        ``MalformedInputError``, ``schema`` ``SchemaError``, ``terminal`` ``SourceError``.
        ``message`` replaces the default text; either way it says the failure was injected and
        by which script. Calls queue up: ``fail(2).fail(1, error="data")`` fails two reads with
        a transient error, then one with a data error.
        """
        _check_count("times", times, least=1)
        _check_count("at_batch", at_batch, least=0)
        _check_kind(error, SOURCE_ERRORS)
        with self._cond:
            self._read_plan.add(_Failure(error, at_batch, message), times)
        return self

    def fail_always(
        self, *, error: ErrorKind = "transient", at_batch: int = 0, message: str | None = None
    ) -> Self:
        """Every read raises (after those :meth:`fail` queued) until :meth:`heal`."""
        _check_count("at_batch", at_batch, least=0)
        _check_kind(error, SOURCE_ERRORS)
        with self._cond:
            self._read_plan.always = _Failure(error, at_batch, message)
        return self

    # -- configuring: warehouses -------------------------------------------------------------

    def fail_warehouse(
        self,
        times: int = 1,
        *,
        at: LoadStage = "begin",
        error: WarehouseErrorKind = "transient",
        message: str | None = None,
    ) -> Self:
        """The next ``times`` loads that reach ``at`` raise there.

        ``begin``: the load fails before its transaction opens. ``commit``: it fails before
        the commit is attempted, after the rows were staged; the transaction rolls back and
        nothing of the load is written. ``transient`` raises ``WarehouseUnavailableError``
        (a connection lost), ``terminal`` ``WarehouseError``. Each stage keeps its own count:
        a load that fails at ``begin`` does not use up a ``commit`` failure.
        """
        _check_count("times", times, least=1)
        _check_kind(at, self._load_plans)
        _check_kind(error, WAREHOUSE_ERRORS)
        with self._cond:
            self._load_plans[at].add(_Failure(error, at, message), times)
        return self

    def fail_warehouse_always(
        self,
        *,
        at: LoadStage = "begin",
        error: WarehouseErrorKind = "transient",
        message: str | None = None,
    ) -> Self:
        """Every load that reaches ``at`` raises there until :meth:`heal` (a warehouse down)."""
        _check_kind(at, self._load_plans)
        _check_kind(error, WAREHOUSE_ERRORS)
        with self._cond:
            self._load_plans[at].always = _Failure(error, at, message)
        return self

    def heal(self) -> Self:
        """Forget every failure not yet raised, of reads and loads alike (the service is back).

        Holds and the batch callback stay: :meth:`release` and ``on_batch(None)`` end those.
        """
        with self._cond:
            self._read_plan.clear()
            for plan in self._load_plans.values():
                plan.clear()
        return self

    # -- configuring: timing -----------------------------------------------------------------

    def hold(self, at_batch: int = 0) -> Self:
        """Reads block just before yielding batch ``at_batch`` until :meth:`release`.

        A held read still notices cancellation: soon after its cancel token is cancelled it
        raises what the token raises (``CancelledError``; ``StepTimeoutError`` for a step's
        timeout). Pausing does not keep it held past a release. Holding again before a
        release moves the point where new reads stop; reads already blocked stay blocked
        until the release.
        """
        _check_count("at_batch", at_batch, least=0)
        with self._cond:
            self._hold_at = at_batch
            if self._released.is_set():
                self._released = threading.Event()
        return self

    def release(self) -> Self:
        """Let every held read go on; later reads are not held."""
        with self._cond:
            self._hold_at = None
            self._released.set()
        return self

    def wait_held(self, count: int = 1, timeout: float = 10) -> bool:
        """Wait until ``count`` reads are blocked at the hold; ``False`` if ``timeout``
        seconds pass first. Two reads held at once prove that two steps overlap."""
        with self._cond:
            return self._cond.wait_for(lambda: self._held >= count, timeout)

    def on_batch(self, callback: Callable[[int], None] | None) -> Self:
        """Call ``callback(index)`` after each batch a read yields (0 for the first), in the
        reading thread, before the read checks for cancellation; ``None`` removes it. What the
        callback raises, the read raises."""
        with self._cond:
            self._callback = callback
        return self

    # -- what happened -----------------------------------------------------------------------

    @property
    def reads(self) -> list[ReadRecord]:
        """Every read so far, oldest first (copies)."""
        with self._cond:
            return [replace(record) for record in self._reads]

    @property
    def calls(self) -> int:
        """How many reads started."""
        with self._cond:
            return len(self._reads)

    @property
    def in_flight(self) -> int:
        """Reads started and not yet finished."""
        with self._cond:
            return self._in_flight

    @property
    def max_concurrent(self) -> int:
        """The most reads of this script in flight at once."""
        with self._cond:
            return self._max_concurrent

    @property
    def held(self) -> int:
        """Reads blocked at the hold right now."""
        with self._cond:
            return self._held

    @property
    def loads(self) -> int:
        """How many loads a ``faulty_duckdb`` warehouse began with this script (failed or not)."""
        with self._cond:
            return self._loads

    # -- used by the fakes -------------------------------------------------------------------

    @contextmanager
    def reading(self, *, endpoint: str | None = None) -> Iterator[ScriptedRead]:
        """One read of a fake source, from its first batch to its end: records it, and hands
        it the failure it will raise, if any. What the block raises is recorded and re-raised;
        a reader closed early (``GeneratorExit``) is recorded without an error."""
        record = ReadRecord(
            started=time.monotonic(), thread=threading.current_thread().name, endpoint=endpoint
        )
        with self._cond:
            self._reads.append(record)
            failure = self._read_plan.take()
            self._in_flight += 1
            self._max_concurrent = max(self._max_concurrent, self._in_flight)
            call = len(self._reads)
        self._endpoints.enter(endpoint)
        try:
            yield ScriptedRead(self, record, failure=failure, call=call)
        except BaseException as exc:
            if not isinstance(exc, GeneratorExit):
                with self._cond:
                    record.error_class = classify(exc).value
            raise
        finally:
            self._endpoints.leave(endpoint)
            with self._cond:
                record.finished = time.monotonic()
                self._in_flight -= 1

    def load_stage(self, stage: LoadStage, *, table: str) -> None:
        """Raise the scripted failure of a load reaching ``stage``, if one is due."""
        with self._cond:
            if stage == "begin":
                self._loads += 1
            failure = self._load_plans[stage].take()
        if failure is None:
            return
        where = f"at the {stage} of the load into {table}"
        raise WAREHOUSE_ERRORS[failure.kind](self._message(failure, where), hint=HINT)

    def _wait_if_held(self, index: int, *, last: bool, cancel: CancelToken) -> None:
        with self._cond:
            if self._hold_at is None or not _due(self._hold_at, index, last=last):
                return
            released = self._released
            self._held += 1
            self._cond.notify_all()
        try:
            while not released.wait(HOLD_POLL_S):
                # Only a cancel (or a step's timeout) ends a hold early; ``check`` alone would
                # also block while the run is paused, and a release must still get through.
                if cancel.cancelled:
                    cancel.check()
        finally:
            with self._cond:
                self._held -= 1
                self._cond.notify_all()

    def _yielded(self, record: ReadRecord) -> Callable[[int], None] | None:
        with self._cond:
            record.batches += 1
            return self._callback

    def _message(self, failure: _Failure, where: str) -> str:
        text = failure.message or f"injected {failure.kind} failure"
        return f"{text} ({where}; injected by fault script {self.name!r})"


class ScriptedRead:
    """One read in progress, as :meth:`FaultScript.reading` hands it to a fake source."""

    def __init__(
        self, script: FaultScript, record: ReadRecord, *, failure: _Failure | None, call: int
    ) -> None:
        self._script = script
        self._record = record
        self._failure = failure
        self._call = call

    def boundary(self, index: int, *, last: bool, cancel: CancelToken) -> None:
        """The read is about to yield batch ``index`` (``last``: it has no more batches and is
        about to end): wait while held, then raise the read's scripted failure if it is due."""
        self._script._wait_if_held(index, last=last, cancel=cancel)
        failure = self._failure
        if failure is None or not _due(int(failure.where), index, last=last):
            return
        where = f"read {self._call}, before batch {index}"
        raise SOURCE_ERRORS[failure.kind](self._script._message(failure, where), hint=HINT)

    def yielded(self, index: int) -> None:
        """Batch ``index`` went out: count it and call the script's ``on_batch`` callback."""
        callback = self._script._yielded(self._record)
        if callback is not None:
            callback(index)


class Faults:
    """Fault scripts by name, created on first use. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, FaultScript] = {}
        self._endpoints = EndpointGauge()

    def script(self, name: str) -> FaultScript:
        """The script called ``name`` (a new, harmless one the first time)."""
        with self._lock:
            script = self._scripts.get(name)
            if script is None:
                script = FaultScript(name, endpoints=self._endpoints)
                self._scripts[name] = script
            return script

    @property
    def names(self) -> list[str]:
        """The scripts that exist, sorted."""
        with self._lock:
            return sorted(self._scripts)

    def reset(self) -> None:
        """Drop every script and endpoint count, releasing every held read first."""
        with self._lock:
            scripts = list(self._scripts.values())
            self._scripts.clear()
            self._endpoints = EndpointGauge()
        for script in scripts:
            script.release()

    def in_flight(self, endpoint: str) -> int:
        """Reads of sources with this ``endpoint`` in flight now, whatever their script."""
        with self._lock:
            gauge = self._endpoints
        return gauge.in_flight(endpoint)

    def max_concurrent(self, endpoint: str) -> int:
        """The most reads of sources with this ``endpoint`` in flight at once (since the last
        :meth:`reset`), whatever their script."""
        with self._lock:
            gauge = self._endpoints
        return gauge.max_concurrent(endpoint)


faults = Faults()
"""The process-global fault scripts that ``faulty`` sources and ``faulty_duckdb`` warehouses
follow; tests reset it between runs (``faults.reset()``)."""


def fault_registry() -> Registry:
    """The built-in source and warehouse kinds plus ``faulty`` and ``faulty_duckdb``."""
    from sluiceway.engine.registry import Registry
    from sluiceway.sources.registry import builtin_sources
    from sluiceway.testing.source import FaultySource
    from sluiceway.testing.warehouse import FaultyWarehouse
    from sluiceway.warehouses.registry import builtin_warehouses

    sources = builtin_sources()
    sources.register(FaultySource)
    warehouses = builtin_warehouses()
    warehouses.register(FaultyWarehouse)
    return Registry(sources=sources, warehouses=warehouses)


def _due(where: int, index: int, *, last: bool) -> bool:
    """Whether something placed at boundary ``where`` happens at boundary ``index``."""
    return index == where or (last and where > index)


def _check_count(name: str, value: int, *, least: int) -> None:
    if value < least:
        raise ValueError(f"{name} must be at least {least}, not {value}")


def _check_kind(value: str, known: Collection[str]) -> None:
    if value not in known:
        raise ValueError(f"{value!r} is not one of {', '.join(map(repr, known))}")
