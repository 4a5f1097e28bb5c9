"""Where quality history is kept: the interface the engine uses, and a memory-only one.

The metadata store implements it for real runs (``sluiceway.engine.quality_store``), so drift
rules see earlier loads and ``sluiceway quality TABLE`` shows the trend;
:class:`InMemoryQualityLog` serves tests and embedding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class QualityEntry:
    """One checked load of one table: what the rules found, its profile, cleaning and score."""

    warehouse: str
    table: str
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


class QualityLog(Protocol):
    def record(self, entry: QualityEntry) -> None:
        """Keep one checked load (replacing an earlier record of the same load)."""

    def history(self, warehouse: str, table: str, limit: int | None = None) -> list[QualityEntry]:
        """The table's checked loads, newest first."""

    def profiles(self, warehouse: str, table: str, limit: int) -> list[Mapping[str, Any]]:
        """Profiles of the table's last ``limit`` committed, profiled loads, newest first."""


@dataclass
class InMemoryQualityLog:
    entries: list[QualityEntry] = field(default_factory=list)

    def record(self, entry: QualityEntry) -> None:
        self.entries = [
            e
            for e in self.entries
            if (e.warehouse, e.table.lower(), e.load_id)
            != (entry.warehouse, entry.table.lower(), entry.load_id)
        ]
        self.entries.append(entry)

    def history(self, warehouse: str, table: str, limit: int | None = None) -> list[QualityEntry]:
        mine = [
            e for e in self.entries if e.warehouse == warehouse and e.table.lower() == table.lower()
        ]
        mine.sort(key=lambda e: (e.checked_at, e.load_id), reverse=True)
        return mine[:limit] if limit is not None else mine

    def profiles(self, warehouse: str, table: str, limit: int) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = [
            e.profile
            for e in self.history(warehouse, table)
            if e.committed and e.profile is not None
        ]
        return found[:limit]
