"""Identifiers: time-ordered, unique across processes, short enough to type.

Run and load ids are ULIDs (48-bit millisecond timestamp + 80 random bits, Crockford base32), so
they sort by creation time as plain strings and a unique prefix is enough on the command line.
"""

from __future__ import annotations

import os
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(now_ms: int | None = None) -> str:
    """A new 26-character ULID; ``now_ms`` fixes the timestamp part (tests, backfills)."""
    millis = int(time.time() * 1000) if now_ms is None else now_ms
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, index = divmod(value, 32)
        chars.append(_CROCKFORD[index])
    return "".join(reversed(chars))
