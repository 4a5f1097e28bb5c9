"""Retrying transient failures: exponential backoff with full jitter, capped.

The delay before attempt ``n + 1`` is a random value in ``[0, min(max_delay, base * 2**n)]``
("full jitter"): clients that failed together do not retry together, so a server coming back is
not hit by every client at the same instant.

>>> policy = RetryPolicy(attempts=4, base_delay=0.5, max_delay=10)
>>> [round(d, 2) for d in policy.delays(random.Random(1))]  # doctest: +SKIP
[0.07, 0.85, 0.38]
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5  # tries in all, the first included
    base_delay: float = 0.5  # seconds: the cap of the first delay
    max_delay: float = 30.0  # seconds: no delay is longer

    def ceiling(self, retry: int) -> float:
        """The longest delay before retry number ``retry`` (0 = the first retry)."""
        return float(min(self.max_delay, self.base_delay * (2**retry)))

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """The delays between attempts: ``attempts - 1`` of them."""
        rng = rng or random.Random()  # noqa: S311 - jitter spreads retries, no secrecy needed
        for retry in range(max(self.attempts - 1, 0)):
            yield rng.uniform(0, self.ceiling(retry))


def call_with_retry(
    call: Callable[[], T],
    *,
    policy: RetryPolicy,
    retryable: Callable[[BaseException], bool],
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
    rng: random.Random | None = None,
) -> T:
    """``call()``, again after a delay while it raises a ``retryable`` error and attempts
    remain; the last error propagates. ``on_retry(attempt, error, delay)`` is told before each
    wait (attempt 1 is the first call)."""
    delays = policy.delays(rng)
    attempt = 1
    while True:
        try:
            return call()
        except Exception as exc:
            if not retryable(exc):
                raise
            delay = next(delays, None)
            if delay is None:
                raise
            if on_retry is not None:
                on_retry(attempt, exc, delay)
            sleep(delay)
            attempt += 1
