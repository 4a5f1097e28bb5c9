"""The ``_sluiceway`` schema inside every warehouse: what must commit atomically with the data.

``loads`` records each committed load; ``dlq`` holds rejected rows. Both are written in the load's
own transaction, so a load's rows, its rejects and its record appear together or not at all.

The DDL is written once in DuckDB's dialect and transpiled by sqlglot for other warehouses.
Migrations are numbered and append-only: never edit one that has shipped, add the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import sqlglot

from sluiceway.core.names import TableRef
from sluiceway.core.rejects import Reject

SCHEMA = "_sluiceway"
STAGING_SCHEMA = "_sluiceway_staging"
MIGRATIONS_TABLE = TableRef("migrations", SCHEMA)
LOADS_TABLE = TableRef("loads", SCHEMA)
DLQ_TABLE = TableRef("dlq", SCHEMA)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]  # DuckDB dialect

    def compiled(self, dialect: str) -> list[str]:
        if dialect == "duckdb":
            return list(self.statements)  # written in DuckDB's dialect already
        return [sqlglot.transpile(s, read="duckdb", write=dialect)[0] for s in self.statements]


BOOTSTRAP = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"CREATE SCHEMA IF NOT EXISTS {STAGING_SCHEMA}",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.migrations ("
    "version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "loads and dead-letter queue",
        (
            f"CREATE TABLE {SCHEMA}.loads ("
            "load_id VARCHAR NOT NULL, run_id VARCHAR NOT NULL, pipeline VARCHAR NOT NULL, "
            "source VARCHAR NOT NULL, table_name VARCHAR NOT NULL, "
            "write_disposition VARCHAR NOT NULL, rows_staged BIGINT NOT NULL, "
            "rows_inserted BIGINT NOT NULL, rows_updated BIGINT NOT NULL, "
            "rows_rejected BIGINT NOT NULL, status VARCHAR NOT NULL, "
            "started_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ NOT NULL)",
            f"CREATE TABLE {SCHEMA}.dlq ("
            "load_id VARCHAR NOT NULL, seq BIGINT NOT NULL, run_id VARCHAR NOT NULL, "
            "pipeline VARCHAR NOT NULL, source VARCHAR NOT NULL, table_name VARCHAR NOT NULL, "
            "reason VARCHAR NOT NULL, error_class VARCHAR NOT NULL, message VARCHAR NOT NULL, "
            "file VARCHAR, line BIGINT, column_name VARCHAR, raw VARCHAR, "
            "status VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL)",
        ),
    ),
)

MIGRATIONS += (
    Migration(
        2,
        "dead-letter queue: error class, rule, attempts",
        (
            # What version 1 called the reason is the error class users filter by:
            # malformed, type_mismatch, schema, null_primary_key (and rule, with quality rules).
            f"ALTER TABLE {SCHEMA}.dlq DROP COLUMN error_class",
            f"ALTER TABLE {SCHEMA}.dlq RENAME COLUMN reason TO error_class",
            f"ALTER TABLE {SCHEMA}.dlq RENAME COLUMN created_at TO first_seen_at",
            f"ALTER TABLE {SCHEMA}.dlq ADD COLUMN rule VARCHAR",
            f"ALTER TABLE {SCHEMA}.dlq ADD COLUMN attempts INTEGER DEFAULT 0",
            f"ALTER TABLE {SCHEMA}.dlq ADD COLUMN last_attempt_at TIMESTAMPTZ",
        ),
    ),
)

MIGRATIONS += (
    Migration(
        3,
        "dead-letter queue: the load that replayed a row",
        (f"ALTER TABLE {SCHEMA}.dlq ADD COLUMN replayed_by VARCHAR",),
    ),
)

MIGRATIONS += (
    Migration(
        4,
        "incremental state: cursors and watermarks, committed with the rows",
        (
            f"CREATE TABLE {SCHEMA}.state ("
            "pipeline VARCHAR NOT NULL, source VARCHAR NOT NULL, name VARCHAR NOT NULL, "
            "value VARCHAR, load_id VARCHAR, run_id VARCHAR, "
            "updated_at TIMESTAMPTZ NOT NULL)",
        ),
    ),
)
MIGRATIONS += (
    Migration(
        5,
        "loads: rows deleted (merge and scd2 deletions, partitions overwritten)",
        (f"ALTER TABLE {SCHEMA}.loads ADD COLUMN rows_deleted BIGINT DEFAULT 0",),
    ),
)
STATE_TABLE = TableRef("state", SCHEMA)

LATEST_VERSION = MIGRATIONS[-1].version

DLQ_SCHEMA = pa.schema(
    [
        ("load_id", pa.string()),
        ("seq", pa.int64()),
        ("run_id", pa.string()),
        ("pipeline", pa.string()),
        ("source", pa.string()),
        ("table_name", pa.string()),
        ("error_class", pa.string()),
        ("message", pa.string()),
        ("file", pa.string()),
        ("line", pa.int64()),
        ("column_name", pa.string()),
        ("raw", pa.string()),
        ("status", pa.string()),
        ("first_seen_at", pa.timestamp("us", tz="UTC")),
        ("rule", pa.string()),
        ("attempts", pa.int32()),
    ]
)


def dlq_rows(
    rejects: Sequence[Reject],
    *,
    load_id: str,
    run_id: str,
    pipeline: str,
    table: TableRef,
    first_seq: int,
    created_at: datetime,
) -> pa.Table:
    """Rejects as an Arrow table shaped like ``_sluiceway.dlq``."""
    count = len(rejects)
    columns = {
        "load_id": [load_id] * count,
        "seq": list(range(first_seq, first_seq + count)),
        "run_id": [run_id] * count,
        "pipeline": [pipeline] * count,
        "source": [r.source for r in rejects],
        "table_name": [str(table)] * count,
        "error_class": [r.reason for r in rejects],
        "message": [r.message for r in rejects],
        "file": [r.file for r in rejects],
        "line": [r.line for r in rejects],
        "column_name": [r.column for r in rejects],
        "raw": [r.raw for r in rejects],
        "status": ["open"] * count,
        "first_seen_at": [created_at] * count,
        "rule": [r.rule for r in rejects],
        "attempts": [0] * count,
    }
    return pa.table(columns, schema=DLQ_SCHEMA)
