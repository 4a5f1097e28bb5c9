"""Table references: an optional schema and a table name, always quoted when rendered to SQL."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class TableRef:
    """A table, optionally schema-qualified; ``schema=None`` means the warehouse's default."""

    name: str
    schema: str | None = None

    @classmethod
    def parse(cls, text: str) -> TableRef:
        """``"orders"`` or ``"bronze.orders"``."""
        schema, _, name = text.rpartition(".")
        return cls(name=name, schema=schema or None)

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


# Lineage columns Sluiceway adds to loaded rows (``lineage: true``).
LOAD_ID_COLUMN = "_sluiceway_load_id"
SOURCE_COLUMN = "_sluiceway_source"
