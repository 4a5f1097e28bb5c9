"""Schedule state: per scheduled pipeline, the last due time acted on and the next one.

One row per pipeline in the ``schedules`` table. ``sluiceway serve`` writes it as it fires
(so a restarted scheduler knows what it missed); ``sluiceway schedules`` reads it. ``details``
is JSON the scheduler owns (when it first saw the pipeline, counters, the last launch); the
store keeps it without interpreting it (it never imports ``sluiceway.scheduler``).

Like :class:`~sluiceway.meta.store.MetaStore`'s methods, every function either succeeds or
raises :class:`~sluiceway.core.errors.MetaStoreError`, with SQLAlchemy's exception as cause::

    state = load_schedule_state(store, "shop")
    save_schedule_state(store, replace(state, next_fire_at=later, updated_at=utcnow()))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping

from sluiceway.meta.store import MetaStore
from sluiceway.meta.tables import schedules

_s = schedules.c


@dataclass(frozen=True, slots=True)
class ScheduleState:
    """What the scheduler remembers of one pipeline's schedule. Timestamps are aware UTC."""

    pipeline: str
    schedule: str
    """The schedule as written (``@hourly``, ``every 15m``), to notice that it changed."""
    last_fire_at: datetime | None
    """The last due time acted on (run, or skipped); ``None`` before the first."""
    next_fire_at: datetime | None
    updated_at: datetime
    details: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @classmethod
    def from_row(cls, row: RowMapping) -> ScheduleState:
        """Build a state from a row of the ``schedules`` table."""
        return cls(
            pipeline=row["pipeline"],
            schedule=row["schedule"],
            last_fire_at=row["last_fire_at"],
            next_fire_at=row["next_fire_at"],
            updated_at=row["updated_at"],
            details=dict(row["details"] or {}),
        )


def load_schedule_state(store: MetaStore, pipeline: str) -> ScheduleState | None:
    """The stored state of ``pipeline``'s schedule; ``None`` if the scheduler never saw it."""
    with store.reading(f"read the schedule state of pipeline {pipeline}") as connection:
        row = connection.execute(select(schedules).where(_s.pipeline == pipeline)).mappings()
        first = row.first()
    return None if first is None else ScheduleState.from_row(first)


def save_schedule_state(store: MetaStore, state: ScheduleState) -> None:
    """Store ``state``, replacing the pipeline's previous one.

    Raises ``ValueError`` for a naive timestamp (it would shift by the machine's UTC offset).
    """
    for name in ("last_fire_at", "next_fire_at", "updated_at"):
        value = getattr(state, name)
        if value is not None and value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    values = {
        "schedule": state.schedule,
        "last_fire_at": state.last_fire_at,
        "next_fire_at": state.next_fire_at,
        "updated_at": state.updated_at,
        "details": dict(state.details),
    }
    with store.transaction(f"save the schedule state of pipeline {state.pipeline}") as connection:
        # Inside one write transaction (SQLite: BEGIN IMMEDIATE), update-else-insert is safe
        # and needs no dialect-specific upsert.
        result = connection.execute(
            update(schedules).where(_s.pipeline == state.pipeline).values(**values)
        )
        if result.rowcount == 0:
            connection.execute(insert(schedules).values(pipeline=state.pipeline, **values))


def list_schedule_states(store: MetaStore) -> list[ScheduleState]:
    """Every stored schedule state, by pipeline name."""
    with store.reading("list the schedule states") as connection:
        rows = connection.execute(select(schedules).order_by(_s.pipeline)).mappings()
        return [ScheduleState.from_row(row) for row in rows]
