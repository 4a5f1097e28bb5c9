"""One Event type, one bus.

Every stage publishes :class:`Event`s; the progress display, the structured log, the metadata
store (and later Prometheus, the WebSocket feed, OpenLineage and alerts) subscribe. A subscriber
that raises never breaks the run: the error is reported once on the bus's ``errors`` list.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sluiceway.core.clock import utcnow


class EventKind(StrEnum):
    """What happened. Names read as ``<subject>_<past tense>``."""

    RUN_STARTED = "run_started"
    RUN_FINISHED = "run_finished"
    STEP_STARTED = "step_started"
    STEP_FINISHED = "step_finished"
    BATCH_STAGED = "batch_staged"
    ROWS_REJECTED = "rows_rejected"
    LOAD_COMMITTED = "load_committed"
    FILE_STARTED = "file_started"
    SCHEMA_CHANGED = "schema_changed"
    CHECKS_FINISHED = "checks_finished"
    STEP_RETRYING = "step_retrying"  # a transient failure: the step runs again after a delay
    CIRCUIT_OPENED = "circuit_opened"  # an endpoint failed too often: its steps are blocked
    CIRCUIT_CLOSED = "circuit_closed"  # a trial after the cooldown succeeded
    MODEL_BUILT = "model_built"  # a model committed: its code, SQL and columns, for lineage
    PLAN_CAPTURED = "plan_captured"  # the EXPLAIN of a model step's query
    RUN_PAUSED = "run_paused"
    RUN_RESUMED = "run_resumed"


@dataclass(frozen=True, slots=True)
class Event:
    """Something a stage did, with the context to place it."""

    kind: EventKind
    run_id: str
    pipeline: str
    step: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=utcnow)

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.kind.value,
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "step": self.step,
            "at": self.at.isoformat(),
            **dict(self.data),
        }


Subscriber = Callable[[Event], None]


class EventBus:
    """Synchronous fan-out to subscribers; thread-safe to publish from parallel steps."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self.errors: list[tuple[Subscriber, BaseException]] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(subscriber)

    def publish(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception as exc:  # a broken display must not break a load
                with self._lock:
                    if all(s is not subscriber for s, _ in self.errors):
                        self.errors.append((subscriber, exc))
