"""When a schedule fires: the next fire time after an instant, and the due ones in a window.

Two kinds, one interface (:class:`Trigger`), every time an aware UTC ``datetime``:

- :class:`CronTrigger`: the wall-clock times a 5-field cron expression names, in a time zone.
- :class:`IntervalTrigger`: ``anchor + k * every`` for k = 1, 2, …, the anchor being the first
  time the scheduler saw the pipeline (stored with its state), so a restart keeps the rhythm.

Daylight-saving time, for cron (the expression is read in wall-clock time):

- a wall time the clocks skip in spring (02:30 when they jump from 02:00 to 03:00) fires at the
  jump, 03:00; several skipped times (``*/15``) fire once there;
- a wall time that happens twice in autumn (01:30 when the clocks go back from 02:00 to 01:00)
  fires once, the first time, unless the expression runs every hour (its hour field is ``*``):
  then it fires both times, so hourly and sub-hourly schedules stay evenly spaced.

Example::

    trigger = CronTrigger("30 2 * * *", ZoneInfo("America/New_York"))
    trigger.next_after(datetime(2024, 3, 10, 0, 0, tzinfo=UTC))
    # 2024-03-10 07:00 UTC: 02:30 does not exist that night, 03:00 EDT is when it fires
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Final, Protocol

from croniter import croniter

from sluiceway.spec.schedule import ScheduleSpec, cron_expression

COUNT_LIMIT: Final = 10_000
"""Missed fire times beyond the ones run are counted up to this many (a cron schedule's are
found one by one; a scheduler down for a year on ``* * * * *`` would count for minutes)."""

_TICK: Final = timedelta(microseconds=1)
_DAY: Final = timedelta(days=1)
_MINUTE: Final = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class DueTimes:
    """The fire times that fell due in a window, and how many older ones were left out."""

    times: tuple[datetime, ...]
    """The most recent due times (at most the limit asked for), oldest first."""
    dropped: int
    """Older due times in the window, not in ``times``; counted up to :data:`COUNT_LIMIT`."""


class Trigger(Protocol):
    """When a schedule fires."""

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after ``moment``."""
        ...

    def due(self, since: datetime, now: datetime, *, limit: int) -> DueTimes:
        """The fire times in ``(since, now]``: the ``limit`` most recent, oldest first."""
        ...


def trigger_for(spec: ScheduleSpec, *, anchor: datetime) -> Trigger:
    """The trigger of ``spec``; ``anchor`` (when the scheduler first saw the pipeline) is
    where an interval counts from."""
    interval = spec.interval()
    if interval is not None:
        return IntervalTrigger(interval, anchor=anchor)
    assert spec.cron is not None  # one of the two, by validation
    return CronTrigger(spec.cron, spec.zone())


class IntervalTrigger:
    """Fires at ``anchor + every``, ``anchor + 2 * every``, …"""

    def __init__(self, every: timedelta, *, anchor: datetime) -> None:
        if every <= timedelta(0):
            raise ValueError(f"an interval must be positive, got {every}")
        _require_aware(anchor)
        self.every = every
        self.anchor = anchor

    def next_after(self, moment: datetime) -> datetime:
        _require_aware(moment)
        return self._at(self._index_at_or_before(moment) + 1)

    def due(self, since: datetime, now: datetime, *, limit: int) -> DueTimes:
        _require_aware(since)
        _require_aware(now)
        first = self._index_at_or_before(since) + 1
        last = self._index_at_or_before(now)
        total = max(0, last - first + 1)
        kept = min(total, max(0, limit))
        times = tuple(self._at(k) for k in range(last - kept + 1, last + 1))
        return DueTimes(times, total - kept)

    def _index_at_or_before(self, moment: datetime) -> int:
        """The largest k ≥ 0 with ``anchor + k * every <= moment`` (0 before the anchor)."""
        return max(0, (moment - self.anchor) // self.every)

    def _at(self, index: int) -> datetime:
        return (self.anchor + index * self.every).astimezone(UTC)


class CronTrigger:
    """Fires at the wall-clock times a cron expression names, in ``zone`` (see the module
    docstring for daylight-saving changes)."""

    def __init__(self, expression: str, zone: tzinfo) -> None:
        self.expression = cron_expression(expression)
        self.zone = zone
        # `*` (or a list of all 24 hours) in the hour field: a wall time repeated in autumn
        # fires twice, keeping the rhythm; a fixed-hour schedule fires once.
        self._every_hour = croniter(self.expression).expanded[1] == ["*"]

    def next_after(self, moment: datetime) -> datetime:
        return next(self.after(moment))

    def previous_before(self, moment: datetime) -> datetime:
        """The last fire time strictly before ``moment``."""
        return next(self.before(moment))

    def due(self, since: datetime, now: datetime, *, limit: int) -> DueTimes:
        _require_aware(since)
        newest_first: list[datetime] = []
        dropped = 0
        # `before` is strict; `now` itself is due.
        for fire in self.before(now + _TICK):
            if fire <= since:
                break
            if len(newest_first) < limit:
                newest_first.append(fire)
            elif dropped < COUNT_LIMIT:
                dropped += 1
            else:
                break
        return DueTimes(tuple(reversed(newest_first)), dropped)

    def after(self, moment: datetime) -> Iterator[datetime]:
        """Every fire time strictly after ``moment``, in order."""
        _require_aware(moment)
        wall = moment.astimezone(self.zone).replace(tzinfo=None)
        walls = croniter(self.expression, wall - self._reach(moment) - _MINUTE)
        pending: list[datetime] = []
        last: datetime | None = None
        while True:
            instants = self._instants(walls.get_next(datetime))
            pending.extend(i for i in instants if i > moment)
            # A wall time's first occurrence never decreases as wall time grows: whatever is
            # pending up to this one's is final, no later wall time fires before it.
            ready = sorted(i for i in pending if i <= instants[0])
            pending = [i for i in pending if i > instants[0]]
            for fire in ready:
                if fire != last:  # skipped wall times all fire at the jump: once
                    yield fire
                    last = fire

    def before(self, moment: datetime) -> Iterator[datetime]:
        """Every fire time strictly before ``moment``, newest first."""
        _require_aware(moment)
        wall = moment.astimezone(self.zone).replace(tzinfo=None)
        walls = croniter(self.expression, wall + self._reach(moment) + _MINUTE)
        pending: list[datetime] = []
        last: datetime | None = None
        while True:
            instants = self._instants(walls.get_prev(datetime))
            pending.extend(i for i in instants if i < moment)
            # Symmetric: a wall time's last occurrence never increases going back.
            ready = sorted((i for i in pending if i >= instants[-1]), reverse=True)
            pending = [i for i in pending if i < instants[-1]]
            for fire in ready:
                if fire != last:
                    yield fire
                    last = fire

    def _reach(self, moment: datetime) -> timedelta:
        """How far a wall time can be from ``moment``'s and still fire on the other side of
        it: the size of any UTC-offset change within a day (zero most of the year)."""
        offsets = [
            (moment + shift).astimezone(self.zone).utcoffset() or timedelta(0)
            for shift in (-_DAY, timedelta(0), _DAY)
        ]
        return max(offsets) - min(offsets)

    def _instants(self, wall: datetime) -> tuple[datetime, ...]:
        """When wall time ``wall`` fires, in UTC, oldest first (see the module docstring)."""
        first = wall.replace(tzinfo=self.zone, fold=0)
        second = wall.replace(tzinfo=self.zone, fold=1)
        before, after = first.utcoffset(), second.utcoffset()
        if before == after or before is None or after is None:
            return (first.astimezone(UTC),)
        if before > after:  # autumn: the wall time happens at `first`, then again at `second`
            if self._every_hour:
                return (first.astimezone(UTC), second.astimezone(UTC))
            return (first.astimezone(UTC),)
        # spring: the wall time never happens; the clocks jump over it somewhere between
        # (in UTC) `second` (the new offset's reading) and `first` (the old one's)
        return (self._jump(second.astimezone(UTC), first.astimezone(UTC), after),)

    def _jump(self, low: datetime, high: datetime, offset: timedelta) -> datetime:
        """The instant in ``(low, high]`` at which the zone's offset became ``offset``."""
        lo, hi = int(low.timestamp()), int(high.timestamp())
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if datetime.fromtimestamp(mid, self.zone).utcoffset() == offset:
                hi = mid
            else:
                lo = mid
        return datetime.fromtimestamp(hi, UTC)


def _require_aware(moment: datetime) -> None:
    if moment.utcoffset() is None:
        raise ValueError(f"a timezone-aware time is required, got naive {moment!r}")
