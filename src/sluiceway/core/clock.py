"""The one place that reads the wall clock, so timestamps are always timezone-aware UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def monotonic() -> float:
    """Seconds from an arbitrary origin, for durations and rates."""
    return time.perf_counter()
