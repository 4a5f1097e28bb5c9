"""Decoded transactions turned into one Arrow table per followed table.

Each table's Arrow table has the source table's columns (catalog order), then:

=========================  ====================  ============================================
column                     Arrow type            meaning
=========================  ====================  ============================================
``_sluiceway_op``          ``string``            ``insert``, ``update``, ``delete``, ``truncate``
``_sluiceway_lsn``         ``int64``             end of the source transaction's commit record
``_sluiceway_seq``         ``int32``             order of the change inside its transaction
``_sluiceway_commit_ts``   ``timestamp[us, UTC]``  when the source transaction committed
``_sluiceway_unchanged``   ``list<string>``      columns the log did not carry (see below)
=========================  ====================  ============================================

Rows are in apply order: by ``(_sluiceway_lsn, _sluiceway_seq)``. Transactions are decoded in
commit order, so the commit position, not the position of each change, is what orders them; all
changes of one transaction share it, and ``_sluiceway_seq`` orders them inside it (counting
the changes of all followed tables of the batch, so rows of several tables interleave correctly).

What each operation carries:

- ``insert``: the new row.
- ``update``: the new row. An update that changes the key arrives as a ``delete`` of the old key
  followed by an ``insert`` of the new row, so a merge by key never leaves the old row behind.
- ``delete``: the key columns only, the rest null, unless the table has REPLICA IDENTITY FULL,
  in which case the whole old row.
- ``truncate``: all table columns null; every earlier row of the table is gone.

PostgreSQL leaves an unchanged out-of-line (TOASTed) value out of an update's new row unless
the table has REPLICA IDENTITY FULL. Such a column is null in the row and named in
``_sluiceway_unchanged``: a merge must keep the target's value for it, not write the null.
``_sluiceway_unchanged`` is null on every other row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from sluiceway.cdc.pg_catalog import SourceTable
from sluiceway.cdc.pg_lsn import format_lsn
from sluiceway.cdc.pg_types import ColumnType, column_type
from sluiceway.cdc.wal2json import Change, Transaction
from sluiceway.core.errors import Location, MalformedInputError

OP = "_sluiceway_op"
LSN = "_sluiceway_lsn"
SEQ = "_sluiceway_seq"
COMMIT_TS = "_sluiceway_commit_ts"
UNCHANGED = "_sluiceway_unchanged"

INSERT, UPDATE, DELETE, TRUNCATE = "insert", "update", "delete", "truncate"

META_FIELDS = (
    pa.field(OP, pa.string(), nullable=False),
    pa.field(LSN, pa.int64(), nullable=False),
    pa.field(SEQ, pa.int32(), nullable=False),
    pa.field(COMMIT_TS, pa.timestamp("us", tz="UTC")),
    pa.field(UNCHANGED, pa.list_(pa.string())),
)


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    """Complete source transactions, as one Arrow table of changes per followed table.

    ``tables`` has every followed table, by the name it was asked for, empty when nothing
    changed. ``end_lsn`` is where to confirm the slot once the warehouse has committed the batch
    (``None`` when the batch covers no transaction). It may lie past the last row: transactions
    that touched only other tables are covered too, and confirming them lets the server recycle
    their WAL.
    """

    tables: Mapping[str, pa.Table]
    end_lsn: int | None
    transactions: int

    @property
    def rows(self) -> int:
        """Changes across all tables."""
        return sum(table.num_rows for table in self.tables.values())

    @property
    def end_lsn_text(self) -> str | None:
        """``end_lsn`` in PostgreSQL's ``X/Y`` form."""
        return None if self.end_lsn is None else format_lsn(self.end_lsn)


def _row_ops(table: SourceTable, change: Change) -> list[tuple[str, dict[str, Any], list[str]]]:
    """The rows one change becomes: ``(op, values, unchanged columns)``."""
    if change.action == "I":
        return [(INSERT, change.columns, [])]
    if change.action == "D":
        return [(DELETE, change.identity, [])]
    if change.action == "T":
        return [(TRUNCATE, {}, [])]
    new = dict(change.columns)
    unchanged: list[str] = []
    for column in table.columns:
        if column.name in new:
            continue
        if table.identity_full and column.name in change.identity:
            new[column.name] = change.identity[column.name]
        elif column.toastable:
            unchanged.append(column.name)
    old_key = {k: change.identity[k] for k in table.key if k in change.identity}
    if len(old_key) == len(table.key) > 0 and any(new.get(k) != v for k, v in old_key.items()):
        old = change.identity if table.identity_full else old_key
        return [(DELETE, old, []), (INSERT, new, unchanged)]
    return [(UPDATE, new, unchanged)]


def _column_types(
    table: SourceTable, rows: list[dict[str, Any]], extra: Mapping[str, str]
) -> dict[str, ColumnType]:
    types = {column.name: column_type(column.pg_type) for column in table.columns}
    # Columns a change carries that the catalog no longer has (dropped since): keep their data.
    for name, pg_type in extra.items():
        if name not in types and any(name in row for row in rows):
            types[name] = column_type(pg_type)
    return types


def changes_table(
    table: SourceTable, rows: list[dict[str, Any]], extra: Mapping[str, str] | None = None
) -> pa.Table:
    """``rows`` (column values and the meta columns, by name) as an Arrow table of ``table``.

    Values are as wal2json writes them (numbers, booleans, or the type's text output); ``extra``
    names the type of columns the rows carry that the catalog no longer has.
    """
    extra = extra or {}
    arrays: list[pa.Array] = []
    fields: list[pa.Field] = []
    for name, kind in _column_types(table, rows, extra).items():
        try:
            arrays.append(kind.array([row.get(name) for row in rows]))
        except (ValueError, TypeError, ArithmeticError, pa.ArrowException) as exc:
            raise MalformedInputError(
                f"a {kind.pg_type} value does not fit Arrow {kind.arrow}: {exc}",
                hint="Report the value; the type mapping is in sluiceway.cdc.pg_types.",
                location=Location(table=table.qualified, column=name),
            ) from exc
        fields.append(pa.field(name, kind.arrow))
    for meta in META_FIELDS:
        arrays.append(pa.array([row[meta.name] for row in rows], type=meta.type))
        fields.append(meta)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def build_batch(
    tables: Mapping[str, SourceTable], transactions: Sequence[Transaction]
) -> ChangeBatch:
    """The batch of ``transactions`` for the followed ``tables`` (other tables' changes skipped)."""
    by_identity = {(t.schema, t.table): t for t in tables.values()}
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in tables}
    extra: dict[str, dict[str, str]] = {name: {} for name in tables}
    for transaction in transactions:
        seq = 0
        for change in transaction.changes:
            table = by_identity.get((change.schema, change.table))
            if table is None:
                continue
            extra[table.name].update(change.types)
            for op, values, unchanged in _row_ops(table, change):
                row = dict(values)
                row[OP] = op
                row[LSN] = transaction.end_lsn
                row[SEQ] = seq
                row[COMMIT_TS] = transaction.commit_ts
                row[UNCHANGED] = unchanged or None
                rows[table.name].append(row)
                seq += 1
    return ChangeBatch(
        tables={name: changes_table(tables[name], rows[name], extra[name]) for name in tables},
        end_lsn=transactions[-1].end_lsn if transactions else None,
        transactions=len(transactions),
    )
