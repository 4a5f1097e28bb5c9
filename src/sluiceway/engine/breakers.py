"""Circuit breakers per endpoint: closed → open → half-open → closed.

- **closed**: steps run; each transient failure that blames the endpoint (its server is
  unreachable, the connection was lost) counts, a success resets the count. ``failures`` in a
  row open the breaker.
- **open**: steps that need the endpoint are not tried: they are ``blocked``, neither retried
  nor failed again. Retries stop at once, so a dead server is not hammered by every step and
  every attempt (no retry storm). The alert (``circuit_opened``) is raised by the one
  transition to open, not by each blocked step.
- **half-open**: after ``cooldown`` one step, the first to ask, tries the endpoint; success
  closes the breaker, failure opens it again for another cooldown. A trial whose process died
  is given up after a further cooldown.

The state lives in a :class:`BreakerStore`: the metadata store (shared across runs and
processes, :class:`sluiceway.meta.control.MetaBreakerStore`) or memory (tests, embedding).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from sluiceway.core.clock import utcnow
from sluiceway.core.durations import format_duration
from sluiceway.core.errors import (
    CircuitOpenError,
    ErrorClass,
    SourceUnavailableError,
    WarehouseError,
    classify,
)
from sluiceway.core.redaction import redact
from sluiceway.meta.control import BreakerRecord, Transition
from sluiceway.spec.execution import BreakerSpec


class BreakerStore(Protocol):
    def get(self, endpoint: str) -> BreakerRecord: ...

    def transition(
        self, endpoint: str, change: Transition
    ) -> tuple[BreakerRecord, BreakerRecord]: ...


class InMemoryBreakerStore:
    def __init__(self) -> None:
        self._records: dict[str, BreakerRecord] = {}
        self._lock = threading.Lock()

    def get(self, endpoint: str) -> BreakerRecord:
        with self._lock:
            return self._records.get(endpoint, BreakerRecord(endpoint))

    def transition(self, endpoint: str, change: Transition) -> tuple[BreakerRecord, BreakerRecord]:
        with self._lock:
            before = self._records.get(endpoint, BreakerRecord(endpoint))
            after = replace(change(before), updated_at=utcnow())
            self._records[endpoint] = after
            return before, after


@dataclass(frozen=True, slots=True)
class Admission:
    """May a step use ``endpoint`` now? ``trial``: it is the half-open trial."""

    endpoint: str
    allowed: bool
    trial: bool = False
    record: BreakerRecord | None = None

    def error(self, cooldown: timedelta) -> CircuitOpenError:
        record = self.record or BreakerRecord(self.endpoint)
        since = f" since {record.opened_at:%Y-%m-%d %H:%M:%S} UTC" if record.opened_at else ""
        last = f"; last error: {record.last_error}" if record.last_error else ""
        return CircuitOpenError(
            f"the circuit breaker of {self.endpoint} is {record.state.replace('_', '-')}{since} "
            f"after {record.failures} failure(s) in a row{last}",
            endpoint=self.endpoint,
            hint="Steps that need it are blocked; one will try it "
            f"{format_duration(cooldown)} after it opened. Close it by hand with "
            "`sluiceway breakers reset ENDPOINT` once it is back.",
        )


class CircuitBreakers:
    def __init__(
        self,
        store: BreakerStore,
        spec: BreakerSpec,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.spec = spec
        self.clock = clock

    def admit(self, endpoint: str, run_id: str) -> Admission:
        record = self.store.get(endpoint)
        if record.state == "closed":
            return Admission(endpoint, allowed=True, record=record)
        if not self._cooled(record):
            return Admission(endpoint, allowed=False, record=record)
        # The first to ask after the cooldown is the trial; everyone else stays blocked.
        now = self.clock()
        won = False

        def try_it(current: BreakerRecord) -> BreakerRecord:
            nonlocal won
            if current.state == "closed" or not self._cooled(current):
                return current
            won = True
            return replace(current, state="half_open", opened_at=now, run_id=run_id)

        _before, after = self.store.transition(endpoint, try_it)
        if won:
            return Admission(endpoint, allowed=True, trial=True, record=after)
        return Admission(endpoint, allowed=after.state == "closed", record=after)

    def succeeded(self, endpoint: str, run_id: str) -> bool:
        """The endpoint worked: close its breaker. True when that closed an open one."""
        if self.store.get(endpoint) == BreakerRecord(endpoint):
            return False  # never failed: no write
        before, _after = self.store.transition(
            endpoint,
            lambda r: replace(r, state="closed", failures=0, last_error=None, run_id=run_id),
        )
        return before.state != "closed"

    def failed(self, endpoint: str, error: BaseException, run_id: str) -> BreakerRecord | None:
        """A transient failure blamed on the endpoint. Returns the record if this failure
        opened the breaker (the caller raises the one alert), else None."""
        now = self.clock()
        text = redact(getattr(error, "message", None) or str(error))[:500]

        def count(current: BreakerRecord) -> BreakerRecord:
            failures = current.failures + 1
            opens = current.state == "half_open" or (
                current.state == "closed" and failures >= self.spec.failures
            )
            state = "open" if opens or current.state == "open" else current.state
            return replace(
                current,
                state=state,
                failures=failures,
                opened_at=now if opens else current.opened_at,
                last_error=text,
                run_id=run_id,
            )

        before, after = self.store.transition(endpoint, count)
        return after if after.state == "open" and before.state != "open" else None

    def is_open(self, endpoint: str) -> bool:
        return self.store.get(endpoint).state != "closed"

    def _cooled(self, record: BreakerRecord) -> bool:
        opened = record.opened_at
        return opened is None or self.clock() - opened >= self.spec.cooldown


def blamed_endpoint(
    error: BaseException, *, source: str | None, warehouse: str | None
) -> str | None:
    """The endpoint a transient failure is blamed on, if any."""
    if classify(error) is not ErrorClass.TRANSIENT:
        return None
    if isinstance(error, SourceUnavailableError):
        return source
    if isinstance(error, WarehouseError):
        return warehouse
    return None
