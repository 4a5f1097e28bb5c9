"""Operators' commands to live runs, and circuit breakers, in the metadata store.

Both are how processes talk to each other: ``sluiceway pause RUN_ID`` in one terminal writes a
command the running process reads at its next poll; a breaker one run opened blocks the steps of
the next run, in this process or another. Every change is a read-modify-write inside one write
transaction (SQLite takes its write lock at BEGIN; PostgreSQL locks the row), so two processes
never both win a transition: only one sees a breaker open, and raises its alert.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row

from sluiceway.core.clock import utcnow
from sluiceway.core.errors import MetaStoreError
from sluiceway.core.status import RunStatus
from sluiceway.meta.store import MetaStore
from sluiceway.meta.tables import circuit_breakers, run_controls

Command = Literal["pause", "resume", "cancel"]
COMMANDS: tuple[Command, ...] = ("pause", "resume", "cancel")


# -- run control -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ControlRequest:
    run_id: str
    command: Command
    requested_at: datetime
    requested_by: str | None
    applied_at: datetime | None


def request(store: MetaStore, run_id: str, command: Command) -> ControlRequest:
    """Ask a live run to pause, resume or cancel; it acts at its next batch boundary.

    Raises NotFoundError for an unknown run and MetaStoreError for a finished one.
    """
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}")
    run = store.get_run(run_id)
    if run.status.finished:
        raise MetaStoreError(
            f"run {run.run_id} has already finished ({run.status}); there is nothing to {command}",
            hint=f"`sluiceway restart {run.run_id}` re-runs its failed, skipped and blocked steps.",
        )
    if command == "pause" and run.status is RunStatus.PAUSED:
        raise MetaStoreError(f"run {run.run_id} is already paused")
    now = utcnow()
    by = f"{getpass.getuser()}@{socket.gethostname()}"
    with store.transaction(f"ask run {run.run_id} to {command}") as connection:
        values = {"command": command, "requested_at": now, "requested_by": by, "applied_at": None}
        done = connection.execute(
            update(run_controls).where(run_controls.c.run_id == run.run_id).values(**values)
        )
        if not done.rowcount:
            connection.execute(insert(run_controls).values(run_id=run.run_id, **values))
    return ControlRequest(run.run_id, command, now, by, None)


def pending(store: MetaStore, run_id: str) -> ControlRequest | None:
    """The latest command to ``run_id`` that the run has not acted on yet."""
    with store.reading(f"read commands to run {run_id}") as connection:
        row = connection.execute(
            select(run_controls).where(
                run_controls.c.run_id == run_id, run_controls.c.applied_at.is_(None)
            )
        ).first()
    return _request(row) if row is not None else None


def applied(store: MetaStore, run_id: str, requested_at: datetime) -> None:
    """The run acted on the command requested at ``requested_at`` (a newer one stays)."""
    with store.transaction(f"mark a command to run {run_id} applied") as connection:
        connection.execute(
            update(run_controls)
            .where(run_controls.c.run_id == run_id, run_controls.c.requested_at == requested_at)
            .values(applied_at=utcnow())
        )


def _request(row: Row[tuple[object, ...]]) -> ControlRequest:
    m = row._mapping
    return ControlRequest(
        m["run_id"], m["command"], m["requested_at"], m["requested_by"], m["applied_at"]
    )


# -- circuit breakers ------------------------------------------------------------------------

BreakerState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True, slots=True)
class BreakerRecord:
    endpoint: str
    state: BreakerState = "closed"
    failures: int = 0
    opened_at: datetime | None = None
    updated_at: datetime | None = None
    last_error: str | None = None
    run_id: str | None = None


Transition = Callable[[BreakerRecord], BreakerRecord]


class MetaBreakerStore:
    """Breaker records in the metadata store, shared by every process that opens it."""

    def __init__(self, store: MetaStore) -> None:
        self._store = store

    def get(self, endpoint: str) -> BreakerRecord:
        with self._store.reading(f"read the circuit breaker of {endpoint}") as connection:
            row = connection.execute(
                select(circuit_breakers).where(circuit_breakers.c.endpoint == endpoint)
            ).first()
        return _breaker(row) if row is not None else BreakerRecord(endpoint)

    def all(self) -> list[BreakerRecord]:
        with self._store.reading("read the circuit breakers") as connection:
            rows = connection.execute(
                select(circuit_breakers).order_by(circuit_breakers.c.endpoint)
            ).all()
        return [_breaker(r) for r in rows]

    def transition(self, endpoint: str, change: Transition) -> tuple[BreakerRecord, BreakerRecord]:
        """Apply ``change`` to the current record atomically; return (before, after)."""
        with self._store.transaction(f"update the circuit breaker of {endpoint}") as connection:
            before = self._locked(connection, endpoint)
            after = replace(change(before), updated_at=utcnow())
            values = {
                "state": after.state,
                "failures": after.failures,
                "opened_at": after.opened_at,
                "updated_at": after.updated_at,
                "last_error": after.last_error,
                "run_id": after.run_id,
            }
            if before.updated_at is None:
                connection.execute(insert(circuit_breakers).values(endpoint=endpoint, **values))
            else:
                connection.execute(
                    update(circuit_breakers)
                    .where(circuit_breakers.c.endpoint == endpoint)
                    .values(**values)
                )
        return before, after

    def reset(self, endpoint: str) -> None:
        """Close a breaker by hand (an operator knows the endpoint is back)."""
        self.transition(endpoint, lambda r: replace(r, state="closed", failures=0))

    @staticmethod
    def _locked(connection: Connection, endpoint: str) -> BreakerRecord:
        query = select(circuit_breakers).where(circuit_breakers.c.endpoint == endpoint)
        if connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = connection.execute(query).first()
        return _breaker(row) if row is not None else BreakerRecord(endpoint)


def _breaker(row: Row[tuple[object, ...]]) -> BreakerRecord:
    m = row._mapping
    return BreakerRecord(
        endpoint=m["endpoint"],
        state=m["state"],
        failures=m["failures"],
        opened_at=m["opened_at"],
        updated_at=m["updated_at"],
        last_error=m["last_error"],
        run_id=m["run_id"],
    )
