"""Quality history, kept in the metadata store (it survives restarts and is shared).

:class:`QualityEntry` (what the quality package produces) and :class:`QualityRecord` (what the
store keeps) carry the same fields; the store names the table ``table_name`` like its other
records, and never imports the quality package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from sluiceway.meta.quality_history import QualityRecord
from sluiceway.meta.store import MetaStore
from sluiceway.quality.history import QualityEntry

_RENAMED = {"table": "table_name"}


class MetaQualityLog:
    """:class:`~sluiceway.quality.history.QualityLog` over a :class:`MetaStore`."""

    def __init__(self, store: MetaStore) -> None:
        self.store = store

    def record(self, entry: QualityEntry) -> None:
        values = {_RENAMED.get(f.name, f.name): getattr(entry, f.name) for f in fields(entry)}
        self.store.record_quality(QualityRecord(**values))

    def history(self, warehouse: str, table: str, limit: int | None = None) -> list[QualityEntry]:
        return [entry(r) for r in self.store.quality_history(warehouse, table, limit=limit)]

    def profiles(self, warehouse: str, table: str, limit: int) -> list[Mapping[str, Any]]:
        records = self.store.quality_history(
            warehouse, table, limit=limit, committed_only=True, with_profile=True
        )
        return [r.profile for r in records if r.profile is not None]


def entry(record: QualityRecord) -> QualityEntry:
    back = {v: k for k, v in _RENAMED.items()}
    return QualityEntry(
        **{back.get(f.name, f.name): getattr(record, f.name) for f in fields(record)}
    )
