"""``index_strategy: rebuild``: a large load writes into a table without its secondary indexes,
which are recreated before the commit, in the same transaction.

Maintaining a B-tree row by row during a bulk insert costs far more than building it once
afterwards. Primary keys, unique indexes and indexes backing a constraint stay: they guard the
data (and merges look rows up by them). A failure anywhere rolls back the drop with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from time import monotonic
from typing import TYPE_CHECKING, Any

from sluiceway.core.names import TableRef
from sluiceway.core.sql_quoting import quote_identifier as q

if TYPE_CHECKING:
    import psycopg

_SECONDARY = (
    "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
    "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
    "JOIN pg_namespace n ON n.oid = t.relnamespace "
    "WHERE n.nspname = %s AND t.relname = %s AND NOT x.indisprimary AND NOT x.indisunique "
    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) "
    "ORDER BY i.relname"
)


@dataclass
class Rebuild:
    """The indexes one load dropped, to recreate before it commits."""

    dropped: list[tuple[str, str, float]] = field(default_factory=list)  # name, DDL, drop time

    def drop(self, conn: psycopg.Connection[Any], table: TableRef, default_schema: str) -> None:
        schema = table.schema or default_schema
        found = conn.execute(_SECONDARY, (schema, table.name)).fetchall()
        for name, definition in found:
            started = monotonic()
            conn.execute(f"DROP INDEX {q(schema)}.{q(str(name))}")
            self.dropped.append((str(name), str(definition), monotonic() - started))

    def restore(self, conn: psycopg.Connection[Any]) -> list[str]:
        """Recreate what was dropped; one note per index with how long each step took."""
        notes = []
        for name, definition, drop_s in self.dropped:
            started = monotonic()
            conn.execute(definition)
            notes.append(
                f"index {name}: dropped in {drop_s:.2f}s, rebuilt in {monotonic() - started:.2f}s"
            )
        self.dropped.clear()
        return notes
