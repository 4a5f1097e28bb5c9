"""Processed periods of a time cursor: ranges merge, windows count only whole periods, and the
gaps are exactly the periods nothing covered (checked against a plain set of days)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from sluiceway.engine.periods import Periods, period_label, period_of

DAY0 = date(2024, 1, 1)


def days(*offsets: int) -> pa.Array:
    return pa.array([DAY0 + timedelta(days=o) for o in offsets], pa.date32())


def test_rows_mark_their_days_and_the_holes_are_gaps() -> None:
    periods = Periods("day")
    periods.add_values(days(0, 1, 1, 4, 7))
    assert [g.as_dict() for g in periods.gaps()] == [
        {"from": "2024-01-03", "to": "2024-01-05", "periods": 2, "unit": "day"},
        {"from": "2024-01-06", "to": "2024-01-08", "periods": 2, "unit": "day"},
    ]
    assert periods.span() == ("2024-01-01", "2024-01-08")


def test_a_window_marks_only_the_periods_wholly_inside_it() -> None:
    periods = Periods("day")
    periods.add_values(days(0, 9))
    # [Jan 3 12:00, Jan 6 06:00): Jan 4 and Jan 5 are whole; Jan 3 and Jan 6 only in part.
    periods.add_window(datetime(2024, 1, 3, 12), datetime(2024, 1, 6, 6))
    assert [(g.as_dict()["from"], g.periods) for g in periods.gaps()] == [
        ("2024-01-02", 2),
        ("2024-01-06", 4),
    ]


def test_state_round_trips_and_a_changed_unit_starts_afresh() -> None:
    periods = Periods("hour")
    values = [datetime(2024, 3, 1, h, 30, tzinfo=UTC) for h in (0, 1, 5)]
    periods.add_values(pa.array(values, pa.timestamp("us", tz="UTC")))
    stored = periods.state()
    again = Periods("hour", stored)
    assert [g.as_dict() for g in again.gaps()] == [
        {"from": "2024-03-01T02:00:00", "to": "2024-03-01T05:00:00", "periods": 3, "unit": "hour"}
    ]
    assert Periods("day", stored).state() is None


def test_months() -> None:
    periods = Periods("month")
    periods.add_values(pa.array([date(2024, 1, 31), date(2024, 4, 1)], pa.date32()))
    assert [g.as_dict() for g in periods.gaps()] == [
        {"from": "2024-02-01", "to": "2024-04-01", "periods": 2, "unit": "month"}
    ]
    assert period_label(period_of(date(2024, 12, 5), "month"), "month") == "2024-12"


@given(st.lists(st.lists(st.integers(0, 60), max_size=8), max_size=6))
def test_gaps_are_the_days_no_batch_covered(batches: list[list[int]]) -> None:
    periods = Periods("day")
    seen: set[int] = set()
    for batch in batches:
        periods.add_values(days(*batch))
        seen.update(batch)
    missing = set(range(min(seen), max(seen) + 1)) - seen if seen else set()
    from_gaps = {
        offset
        for gap in periods.gaps()
        for offset in range(gap.first - DAY0.toordinal(), gap.last - DAY0.toordinal() + 1)
    }
    assert from_gaps == missing
    assert sum(b - a + 1 for a, b in periods.ranges) == len(seen)
