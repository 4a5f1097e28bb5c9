"""A followed table's rows, shaped like its changes: the snapshot a change stream starts from.

A replication slot decodes only what commits after it was created, so a consumer that starts
from an empty target first copies the table. The copy is a ``truncate`` row followed by one
``insert`` per table row, with the same columns, types and meta columns as
:mod:`sluiceway.cdc.change_batch` gives a change: applied with a merge, the target becomes
exactly the table, whatever it held before.

Consistency with the slot: take the snapshot *after* the slot exists. Every transaction that
commits after the slot's confirmed position is decoded, and the snapshot already holds every
transaction committed before it started, so nothing falls between the two. Transactions that
commit in between are in both: replayed on top of the snapshot they are an insert or update
that writes the values the row already has, or a delete of a row the snapshot already lacks;
a merge by key makes that harmless (an append would log them twice).

Values are read as text under the settings the change reader pins (:func:`pin_output_settings`),
which is what wal2json prints, and converted by the same :mod:`sluiceway.cdc.pg_types`
converters: a value reads the same whether it came from the table or from the log.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pyarrow as pa
from psycopg import sql

from sluiceway.cdc.change_batch import (
    COMMIT_TS,
    INSERT,
    LSN,
    OP,
    SEQ,
    TRUNCATE,
    UNCHANGED,
    changes_table,
)
from sluiceway.cdc.pg_catalog import SourceTable
from sluiceway.cdc.pg_errors import translate
from sluiceway.cdc.pg_log import pin_output_settings
from sluiceway.cdc.pg_types import column_type

_INT32_MAX = 2**31 - 1
# wal2json writes a non-finite float as JSON null; the table's text output spells it out.
_NON_FINITE = frozenset({"NaN", "Infinity", "-Infinity"})


def _select(table: SourceTable) -> sql.Composed:
    columns = sql.SQL(", ").join(
        sql.SQL("{}::text").format(sql.Identifier(column.name)) for column in table.columns
    )
    return sql.SQL("SELECT {} FROM {}").format(columns, sql.Identifier(table.schema, table.table))


def read_snapshot(
    conn: psycopg.Connection[Any], table: SourceTable, *, lsn: int, batch_size: int
) -> Iterator[pa.Table]:
    """``table``'s rows as change batches of at most ``batch_size`` rows, from one snapshot.

    The first batch starts with a ``truncate`` row; every row is an ``insert``. ``lsn`` (the
    slot's confirmed position when the snapshot began) is their ``_sluiceway_lsn``, so they
    sort before every change the slot decodes next; ``_sluiceway_commit_ts`` is the snapshot's
    time. Rows stream through a server-side cursor inside one read-only REPEATABLE READ
    transaction on ``conn`` (an autocommit connection), so memory stays flat.
    """
    floats = {
        column.name
        for column in table.columns
        if pa.types.is_floating(column_type(column.pg_type).arrow)
    }
    try:
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            pin_output_settings(conn)
            taken = conn.execute("SELECT pg_catalog.now()").fetchone()
            at = taken[0].astimezone(UTC) if taken else datetime.now(UTC)
            seq = 0
            rows: list[dict[str, Any]] = [_meta({}, TRUNCATE, lsn=lsn, seq=seq, at=at)]
            with conn.cursor(name="sluiceway_snapshot") as cursor:
                cursor.itersize = batch_size
                cursor.execute(_select(table))
                names = [column.name for column in table.columns]
                while True:
                    if len(rows) >= batch_size:
                        yield changes_table(table, rows)
                        rows = []
                    fetched = cursor.fetchmany(batch_size - len(rows))
                    if not fetched:
                        break
                    for values in fetched:
                        row = dict(zip(names, values, strict=True))
                        for name in floats:
                            if row[name] in _NON_FINITE:
                                row[name] = None
                        seq = min(seq + 1, _INT32_MAX)
                        rows.append(_meta(row, INSERT, lsn=lsn, seq=seq, at=at))
            if rows:
                yield changes_table(table, rows)
    except psycopg.Error as exc:
        raise translate(exc, conn, doing=f"taking a snapshot of {table.qualified}") from exc


def _meta(row: dict[str, Any], op: str, *, lsn: int, seq: int, at: datetime) -> dict[str, Any]:
    row[OP] = op
    row[LSN] = lsn
    row[SEQ] = seq
    row[COMMIT_TS] = at
    row[UNCHANGED] = None
    return row
