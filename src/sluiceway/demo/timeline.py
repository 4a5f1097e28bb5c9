"""When things happen in the demo shop, relative to ``as_of``.

``as_of`` is the moment of the second file drop (midnight at the start of that day, naive UTC).
Drop 1 was extracted a week earlier, so every drop-1 timestamp is before ``drop1_cutoff`` and
every drop-2 change lands in the final week. Customers sign up over three years, orders arrive
over the last two, both growing (a business gaining traction), and ids are handed out in time
order, so an id maps to a moment and a moment back to "how many customers existed then".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np
import numpy.typing as npt

from sluiceway.demo.draws import Draws, F64Array, I64Array

DAY = 86_400
DROP_WINDOW_DAYS = 7
SIGNUP_YEARS = 3
ORDER_DAYS = 730
# Density of arrivals grows linearly across a window: at the end it is 1 + GROWTH times the start.
GROWTH = 1.5


def growth_position(quantile: F64Array, growth: float = GROWTH) -> F64Array:
    """Where in a growing window (0..1) the given fraction of arrivals has happened.

    With arrival density proportional to ``1 + growth * t`` the share of arrivals up to ``t`` is
    ``(t + growth t^2 / 2) / (1 + growth / 2)``; this is its inverse.
    """
    scaled = 2.0 * growth * quantile * (1.0 + growth / 2.0)
    return np.asarray((np.sqrt(1.0 + scaled) - 1.0) / growth, dtype=np.float64)


def growth_share(position: F64Array, growth: float = GROWTH) -> F64Array:
    """The share of a growing window's arrivals that happened before ``position`` (0..1)."""
    clipped = np.clip(position, 0.0, 1.0)
    return np.asarray((clipped + growth * clipped**2 / 2.0) / (1.0 + growth / 2.0))


@dataclass(frozen=True, slots=True)
class Window:
    """A span of epoch seconds [start, end) over which ``count`` sequential ids arrive."""

    start: int
    end: int
    first_id: int
    count: int

    def times(self, draws: Draws, stream: str, ids: npt.ArrayLike) -> I64Array:
        """Arrival time (epoch seconds) of each id; non-decreasing in the id."""
        offsets = np.asarray(ids, dtype=np.int64) - self.first_id
        quantile = (offsets + draws.uniform(stream, ids)) / max(self.count, 1)
        position = growth_position(np.clip(quantile, 0.0, 1.0))
        seconds = np.floor(position * (self.end - self.start)).astype(np.int64)
        return np.minimum(self.start + seconds, self.end - 1)

    def arrived_by(self, seconds: I64Array) -> I64Array:
        """How many ids of this window had arrived by each time (at least 1)."""
        position = (np.asarray(seconds, dtype=np.float64) - self.start) / (self.end - self.start)
        arrived = np.floor(growth_share(position) * self.count).astype(np.int64)
        return np.clip(arrived, 1, max(self.count, 1))


def epoch_seconds(day: date) -> int:
    """Seconds from the epoch to midnight at the start of ``day`` (naive UTC)."""
    return int((datetime.combine(day, time()) - datetime(1970, 1, 1)).total_seconds())


def epoch_days(day: date) -> int:
    """Days from the epoch to ``day``."""
    return (day - date(1970, 1, 1)).days


@dataclass(frozen=True, slots=True)
class Timeline:
    """The fixed moments every generated timestamp is placed against."""

    as_of: date

    @property
    def as_of_s(self) -> int:
        return epoch_seconds(self.as_of)

    @property
    def as_of_day(self) -> int:
        return epoch_days(self.as_of)

    @property
    def drop1_cutoff_s(self) -> int:
        """Drop 1 was extracted here; drop 2 holds what changed between this and ``as_of``."""
        return self.as_of_s - DROP_WINDOW_DAYS * DAY

    @property
    def signups_start_s(self) -> int:
        return self.as_of_s - SIGNUP_YEARS * 365 * DAY

    @property
    def orders_start_s(self) -> int:
        return self.as_of_s - ORDER_DAYS * DAY

    @property
    def late_update_before_s(self) -> int:
        """Late-arriving updates only amend orders placed before this (30 days before as_of)."""
        return self.as_of_s - 30 * DAY

    def drop1_cutoff_date(self) -> date:
        return date.fromordinal(self.as_of.toordinal() - DROP_WINDOW_DAYS)
