"""What the metadata store hands back: immutable records of runs, step runs, schema versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import RowMapping

from sluiceway.core.errors import ErrorClass
from sluiceway.core.status import RunStatus, StepStatus


def _duration(started_at: datetime, finished_at: datetime | None) -> float | None:
    if finished_at is None:
        return None
    return (finished_at - started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run of a pipeline, as recorded. Timestamps are timezone-aware UTC."""

    run_id: str
    pipeline: str
    status: RunStatus
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    heartbeat_at: datetime | None
    rows_in: int
    rows_out: int
    rows_rejected: int
    bytes_in: int
    error_class: ErrorClass | None
    error_message: str | None
    pid: int | None
    hostname: str | None
    config_hash: str | None
    details: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to finish; ``None`` while the run is going."""
        return _duration(self.started_at, self.finished_at)

    @classmethod
    def from_row(cls, row: RowMapping) -> RunRecord:
        """Build a record from a row of the ``runs`` table."""
        return cls(
            run_id=row["run_id"],
            pipeline=row["pipeline"],
            status=RunStatus(row["status"]),
            trigger=row["trigger"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            heartbeat_at=row["heartbeat_at"],
            rows_in=row["rows_in"],
            rows_out=row["rows_out"],
            rows_rejected=row["rows_rejected"],
            bytes_in=row["bytes_in"],
            error_class=_error_class(row["error_class"]),
            error_message=row["error_message"],
            pid=row["pid"],
            hostname=row["hostname"],
            config_hash=row["config_hash"],
            details=row["details"] or {},
        )


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One attempt of one step of a run, as recorded. Timestamps are timezone-aware UTC."""

    run_id: str
    step: str
    kind: str
    target: str | None
    status: StepStatus
    attempt: int
    started_at: datetime
    finished_at: datetime | None
    rows_in: int
    rows_out: int
    rows_rejected: int
    bytes_in: int
    load_id: str | None
    error_class: ErrorClass | None
    error_message: str | None
    details: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to finish; ``None`` while the step is going."""
        return _duration(self.started_at, self.finished_at)

    @classmethod
    def from_row(cls, row: RowMapping) -> StepRecord:
        """Build a record from a row of the ``step_runs`` table."""
        return cls(
            run_id=row["run_id"],
            step=row["step"],
            kind=row["kind"],
            target=row["target"],
            status=StepStatus(row["status"]),
            attempt=row["attempt"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            rows_in=row["rows_in"],
            rows_out=row["rows_out"],
            rows_rejected=row["rows_rejected"],
            bytes_in=row["bytes_in"],
            load_id=row["load_id"],
            error_class=_error_class(row["error_class"]),
            error_message=row["error_message"],
            details=row["details"] or {},
        )


@dataclass(frozen=True, slots=True)
class SchemaVersionRecord:
    """One version of a table's schema, as registered. ``created_at`` is timezone-aware UTC.

    ``columns``, ``diff`` and ``aliases`` are plain JSON data, exactly as registered (the
    metadata store does not interpret them; :mod:`sluiceway.schema` does):

    - ``columns``: ``[{"name": "id", "type": "BIGINT", "nullable": False}, …]`` in table order;
    - ``diff``: the changes from the previous version, ``{"added": […], "removed": […],
      "type_changed": […], "nullability_changed": […], "renamed": […]}``;
    - ``aliases``: ``{old column name: current name}``, every rename so far, sorted by old name.
    """

    warehouse: str
    table_name: str
    version: int
    fingerprint: str
    columns: list[dict[str, Any]] = field(hash=False)
    diff: dict[str, Any] = field(hash=False)
    aliases: dict[str, str] = field(hash=False)
    reason: str
    pipeline: str | None
    run_id: str | None
    load_id: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: RowMapping) -> SchemaVersionRecord:
        """Build a record from a row of the ``schema_versions`` table."""
        return cls(
            warehouse=row["warehouse"],
            table_name=row["table_name"],
            version=row["version"],
            fingerprint=row["fingerprint"],
            columns=row["columns"],
            diff=row["diff"],
            # PostgreSQL's jsonb keeps object keys in an order of its own; sort them so that
            # both backends hand the aliases back in the same order.
            aliases=dict(sorted(row["aliases"].items())),
            reason=row["reason"],
            pipeline=row["pipeline"],
            run_id=row["run_id"],
            load_id=row["load_id"],
            created_at=row["created_at"],
        )


@dataclass(frozen=True, slots=True)
class SchemaTableRecord:
    """A table with a schema history: its latest version, and when that was registered."""

    warehouse: str
    table_name: str
    latest_version: int
    updated_at: datetime


def _error_class(value: str | None) -> ErrorClass | None:
    return None if value is None else ErrorClass(value)
