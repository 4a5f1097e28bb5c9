"""Quality history's storage: one row per checked load, with its results, profile and score.

:class:`~sluiceway.meta.store.MetaStore` exposes these as its ``*quality*`` methods. The
results, profile and cleaning report are JSON the quality package computed; the store keeps
them without interpreting them (it never imports ``sluiceway.quality``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, desc, insert, select
from sqlalchemy.engine import Connection, RowMapping

from sluiceway.meta.tables import quality_checks

_q = quality_checks.c


@dataclass(frozen=True, slots=True)
class QualityRecord:
    """One checked load of one table."""

    warehouse: str
    table_name: str
    load_id: str
    checked_at: datetime
    committed: bool
    rows: int
    results: list[dict[str, Any]]
    score: float | None = None
    dimensions: dict[str, float] | None = None
    profile: dict[str, Any] | None = None
    cleaning: list[dict[str, Any]] | None = None
    run_id: str | None = None
    pipeline: str | None = None
    step: str | None = None

    @classmethod
    def from_row(cls, row: RowMapping) -> QualityRecord:
        return cls(
            warehouse=row["warehouse"],
            table_name=row["table_name"],
            load_id=row["load_id"],
            checked_at=row["checked_at"],
            committed=bool(row["committed"]),
            rows=int(row["rows"]),
            results=list(row["results"] or []),
            score=row["score"],
            dimensions=dict(row["dimensions"]) if row["dimensions"] else None,
            profile=dict(row["profile"]) if row["profile"] else None,
            cleaning=list(row["cleaning"]) if row["cleaning"] is not None else None,
            run_id=row["run_id"],
            pipeline=row["pipeline"],
            step=row["step"],
        )


def record(connection: Connection, entry: QualityRecord) -> None:
    """Store (or replace: a re-check of the same load) one checked load."""
    key = (
        (_q.warehouse == entry.warehouse)
        & (_q.table_name == entry.table_name.lower())
        & (_q.load_id == entry.load_id)
    )
    connection.execute(delete(quality_checks).where(key))
    connection.execute(
        insert(quality_checks).values(
            warehouse=entry.warehouse,
            table_name=entry.table_name.lower(),
            load_id=entry.load_id,
            run_id=entry.run_id,
            pipeline=entry.pipeline,
            step=entry.step,
            checked_at=entry.checked_at,
            committed=1 if entry.committed else 0,
            rows=entry.rows,
            score=entry.score,
            dimensions=entry.dimensions,
            results=list(entry.results),
            profile=entry.profile,
            cleaning=entry.cleaning,
        )
    )


def history(
    connection: Connection,
    warehouse: str,
    table: str,
    *,
    limit: int | None = None,
    committed_only: bool = False,
    with_profile: bool = False,
) -> list[QualityRecord]:
    """A table's checked loads, newest first."""
    query = (
        select(quality_checks)
        .where((_q.warehouse == warehouse) & (_q.table_name == table.lower()))
        .order_by(desc(_q.checked_at), desc(_q.load_id))
    )
    if committed_only:
        query = query.where(_q.committed == 1)
    if with_profile:
        query = query.where(_q.profile.is_not(None))
    if limit is not None:
        query = query.limit(limit)
    return [QualityRecord.from_row(r) for r in connection.execute(query).mappings()]


def for_run(connection: Connection, run_id: str) -> list[QualityRecord]:
    """Every table a run checked, in the order it checked them."""
    query = select(quality_checks).where(_q.run_id == run_id).order_by(_q.checked_at)
    return [QualityRecord.from_row(r) for r in connection.execute(query).mappings()]


def tables(connection: Connection, warehouse: str | None) -> list[tuple[str, str]]:
    """(warehouse, table) pairs with a quality history."""
    query = select(_q.warehouse, _q.table_name).distinct().order_by(_q.warehouse, _q.table_name)
    if warehouse is not None:
        query = query.where(_q.warehouse == warehouse)
    return [(str(w), str(t)) for w, t in connection.execute(query)]
