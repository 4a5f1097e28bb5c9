"""Which periods (hours, days, months) of a time cursor have been processed, and the gaps.

A period counts as processed when a load read rows in it, or when a backfill covered it whole
(even if it found no rows: someone looked). Kept in ``_sluiceway.state`` as ranges of period
numbers, committed with the rows like the cursor. A gap is a run of periods between the first
and the last processed one that nothing covered: a day whose file never arrived.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

PERIODS_STATE = "periods"
Unit = Literal["hour", "day", "month"]


def _as_utc(value: date | datetime) -> date | datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def period_of(value: date | datetime, unit: Unit) -> int:
    """The number of the period ``value`` falls in (ordinal day, hour or month)."""
    value = _as_utc(value)
    if unit == "month":
        return value.year * 12 + value.month - 1
    day = value.toordinal()
    if unit == "day":
        return day
    return day * 24 + (value.hour if isinstance(value, datetime) else 0)


def period_start(number: int, unit: Unit) -> datetime:
    if unit == "month":
        return datetime(number // 12, number % 12 + 1, 1)  # naive: UTC
    if unit == "day":
        return datetime.combine(date.fromordinal(number), time())
    return datetime.combine(date.fromordinal(number // 24), time(number % 24))


def period_label(number: int, unit: Unit) -> str:
    start = period_start(number, unit)
    if unit == "month":
        return start.strftime("%Y-%m")
    if unit == "day":
        return start.date().isoformat()
    return start.isoformat(timespec="minutes")


def _naive(value: date | datetime) -> datetime:
    value = _as_utc(value)
    return value if isinstance(value, datetime) else datetime.combine(value, time())


def _bound(number: int, unit: Unit) -> str:
    """Where period ``number`` starts, written as a cursor value (a date, or a timestamp)."""
    start = period_start(number, unit)
    return start.isoformat() if unit == "hour" else start.date().isoformat()


@dataclass(frozen=True, slots=True)
class Gap:
    """Periods ``first``..``last`` (numbers, inclusive) that nothing processed."""

    first: int
    last: int
    unit: Unit

    @property
    def periods(self) -> int:
        return self.last - self.first + 1

    def as_dict(self) -> dict[str, Any]:
        """The gap as a backfill window: both bounds are values a time cursor reads."""
        return {
            "from": _bound(self.first, self.unit),
            "to": _bound(self.last + 1, self.unit),
            "periods": self.periods,
            "unit": self.unit,
        }


class Periods:
    """Processed periods as merged inclusive ranges of period numbers."""

    def __init__(self, unit: Unit, stored: str | None = None) -> None:
        self.unit = unit
        self.ranges: list[list[int]] = []
        if stored:
            kept = json.loads(stored)
            if kept.get("unit") == unit:
                self.ranges = [[int(a), int(b)] for a, b in kept.get("ranges", [])]
            # A changed unit starts afresh: day ranges say nothing about hours.

    def add_values(self, values: pa.Array | pa.ChunkedArray) -> None:
        """The periods of a column of loaded cursor values."""
        valid = pc.drop_null(values)
        if not len(valid):
            return
        floored = pc.unique(pc.floor_temporal(valid, unit=self.unit))
        for value in floored.to_pylist():
            self._add(period_of(value, self.unit), period_of(value, self.unit))

    def add_window(self, start: date | datetime, end: date | datetime) -> None:
        """The periods lying wholly inside ``[start, end)`` (a backfill looked at them)."""
        first = period_of(start, self.unit)
        if period_start(first, self.unit) < _naive(start):
            first += 1
        # The period ``end`` falls in is outside (``end`` is exclusive) or only partly inside.
        last = period_of(end, self.unit) - 1
        if first <= last:
            self._add(first, last)

    def _add(self, first: int, last: int) -> None:
        merged: list[list[int]] = []
        for a, b in sorted([*self.ranges, [first, last]]):
            if merged and a <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        self.ranges = merged

    def gaps(self) -> list[Gap]:
        return [
            Gap(self.ranges[i][1] + 1, self.ranges[i + 1][0] - 1, self.unit)
            for i in range(len(self.ranges) - 1)
        ]

    def span(self) -> tuple[str, str] | None:
        if not self.ranges:
            return None
        return period_label(self.ranges[0][0], self.unit), period_label(
            self.ranges[-1][1], self.unit
        )

    def state(self) -> str | None:
        if not self.ranges:
            return None
        return json.dumps({"unit": self.unit, "ranges": self.ranges})
