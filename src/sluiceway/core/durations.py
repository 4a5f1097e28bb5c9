"""Durations as people write them in config: ``90s``, ``15m``, ``2h``, ``1d12h``, ``1w``."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_WHOLE = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d|w)\s*)+$")
_UNITS = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}


def parse_duration(text: str) -> timedelta:
    """``"1d12h"`` → ``timedelta(days=1, hours=12)``; raises ``ValueError`` with the accepted forms.

    >>> parse_duration("90m")
    datetime.timedelta(seconds=5400)
    """
    if not _WHOLE.match(text):
        raise ValueError(
            f"{text!r} is not a duration; write a number and a unit (ms, s, m, h, d, w), "
            "e.g. 30m, 2h, 1d12h"
        )
    total = timedelta()
    for amount, unit in _PART.findall(text):
        total += float(amount) * _UNITS[unit]
    return total


def format_duration(value: timedelta) -> str:
    """A short human form: ``2d 3h``, ``45m``, ``12s``; under a second, ``250ms``."""
    if value < timedelta():
        return f"-{format_duration(-value)}"
    if value < timedelta(seconds=1):
        return f"{round(value.total_seconds() * 1000)}ms"
    seconds = int(value.total_seconds())
    parts: list[str] = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    if seconds or not parts:
        parts.append(f"{seconds}s")
    return " ".join(parts[:2])
