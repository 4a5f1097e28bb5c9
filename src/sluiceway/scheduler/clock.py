"""The scheduler's clock: the real one, or a hand-moved one for tests.

The scheduler asks a :class:`Clock` what time it is and to wait, never :mod:`time` directly,
so tests move time by hand instead of sleeping::

    clock = ManualClock(datetime(2024, 3, 10, 6, 0, tzinfo=UTC))
    clock.advance(timedelta(minutes=5))
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Protocol

from sluiceway.core.clock import utcnow


class Clock(Protocol):
    """What the scheduler needs of time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return utcnow()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told: :meth:`advance`, :meth:`set`, or :meth:`sleep`
    (which advances it by the time asked, at once). Safe to share between threads."""

    def __init__(self, start: datetime) -> None:
        _require_aware(start)
        self._now = start
        self._lock = threading.Lock()
        self.slept: list[float] = []
        """Every :meth:`sleep` asked for, in order."""

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self._now += timedelta(seconds=max(0.0, seconds))

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta``; returns the new time."""
        if delta < timedelta(0):
            raise ValueError(f"a clock only moves forward, got {delta}")
        with self._lock:
            self._now += delta
            return self._now

    def set(self, moment: datetime) -> None:
        """Move the clock to ``moment`` (forward only)."""
        _require_aware(moment)
        with self._lock:
            if moment < self._now:
                raise ValueError(f"a clock only moves forward: {moment} is before {self._now}")
            self._now = moment


def _require_aware(moment: datetime) -> None:
    if moment.utcoffset() is None:
        raise ValueError(f"the clock needs a timezone-aware time, got {moment!r}")
