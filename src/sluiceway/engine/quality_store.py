"""Quality history, kept in the metadata store (it survives restarts and is shared)."""

from __future__ import annotations

from sluiceway.meta.quality_history import QualityRecord
from sluiceway.meta.store import MetaStore
from sluiceway.quality.history import QualityEntry


class MetaQualityLog:
    """:class:`~sluiceway.quality.history.QualityLog` over a :class:`MetaStore`."""

    def __init__(self, store: MetaStore) -> None:
        self.store = store

    def record(self, entry: QualityEntry) -> None:
        self.store.record_quality(
            QualityRecord(
                warehouse=entry.warehouse,
                table_name=entry.table,
                load_id=entry.load_id,
                checked_at=entry.checked_at,
                committed=entry.committed,
                rows=entry.rows,
                results=entry.results,
                score=entry.score,
                dimensions=entry.dimensions,
                profile=entry.profile,
                cleaning=entry.cleaning,
                run_id=entry.run_id,
                pipeline=entry.pipeline,
                step=entry.step,
            )
        )

    def history(self, warehouse: str, table: str, limit: int | None = None) -> list[QualityEntry]:
        return [entry(r) for r in self.store.quality_history(warehouse, table, limit=limit)]


def entry(record: QualityRecord) -> QualityEntry:
    return QualityEntry(
        warehouse=record.warehouse,
        table=record.table_name,
        load_id=record.load_id,
        checked_at=record.checked_at,
        committed=record.committed,
        rows=record.rows,
        results=record.results,
        score=record.score,
        dimensions=record.dimensions,
        profile=record.profile,
        cleaning=record.cleaning,
        run_id=record.run_id,
        pipeline=record.pipeline,
        step=record.step,
    )
