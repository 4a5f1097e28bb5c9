"""Log-based change data capture from PostgreSQL as a pipeline source.

Each run reads the changes committed to one table since the last load, from a logical
replication slot (wal2json, see :mod:`sluiceway.cdc.pg_log`), as rows with a
``_sluiceway_op`` column (``insert``, ``update``, ``delete``, ``truncate``) that a ``merge`` or
``scd2`` applies. The position is exactly-once:

1. read: peek at the slot, which consumes nothing;
2. load: the rows and the end of the last transaction read commit in one warehouse
   transaction (``ctx.remember``);
3. confirm: once committed, the slot moves up to that position (``ctx.on_commit``), on a
   fresh connection.

A crash before 2 loads the same changes again; between 2 and 3, the next run finds the slot
behind the stored position and confirms it first (:mod:`.position`).

The first run (no stored position) loads a snapshot of the table instead: a ``truncate`` row
and one ``insert`` per row, taken after the slot exists so nothing falls between the snapshot
and the first change (:mod:`sluiceway.cdc.pg_snapshot`). The next run replays the changes that
committed while it was taken, which a merge absorbs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg.conninfo import conninfo_to_dict

from sluiceway.cdc import (
    LSN,
    check_server,
    confirm,
    connect,
    ensure_slot,
    format_lsn,
    read_changes,
    read_snapshot,
    slot_position,
)
from sluiceway.cdc.change_batch import changes_table
from sluiceway.cdc.pg_catalog import SourceTable, describe_tables
from sluiceway.cdc.pg_errors import server_label
from sluiceway.core.errors import ConfigError, Location, SluicewayError, SourceError
from sluiceway.core.names import SOURCE_COLUMN
from sluiceway.sources.base import NothingNew, ReadContext
from sluiceway.sources.postgres_cdc.position import STATE, Position, catch_up
from sluiceway.sources.postgres_cdc.spec import PostgresCdcSpec
from sluiceway.spec.models import SourceSettings

_REDACTED = "***"


class CdcReader:
    """One read of a ``postgres_cdc`` source (the work behind ``PostgresCdcSource.read``)."""

    def __init__(self, config: PostgresCdcSpec) -> None:
        self.config = config

    def read(self, ctx: ReadContext) -> pa.RecordBatchReader:
        with self._redacting():
            return self._read(ctx)

    def _read(self, ctx: ReadContext) -> pa.RecordBatchReader:
        config = self.config
        source = ctx.settings.name
        slot = config.slot_name(ctx.pipeline, source)
        with self._connect() as conn:
            if config.create_slot:
                ensure_slot(conn, slot)  # checks the server first
            else:
                check_server(conn)
            table = describe_tables(conn, [config.source_table])[config.source_table]
            check_write(ctx.settings, table)
            origin = f"{server_label(conn)}/{table.qualified}"
            confirmed = self._confirmed(conn, slot)
            stored = Position.from_state(ctx.state.get(STATE), source=source)
            if stored is None:
                return self._snapshot(ctx, table, Position(confirmed, slot), origin)
            moved = catch_up(conn, slot, stored, confirmed, source=source)
            if moved is not None:
                ctx.notes.append(moved)
            batch = read_changes(
                conn, slot, tables=[config.source_table], max_changes=config.max_changes
            )
        if batch.end_lsn is None:
            raise NothingNew(f"no new changes in slot {slot} (confirmed up to LSN {stored.text})")
        end = Position(batch.end_lsn, slot)
        # Remembered and confirmed even when no row is for this table: the transactions read
        # touched only other tables, and confirming them lets the server recycle their WAL.
        ctx.remember(STATE, end.to_state())
        ctx.on_commit.append(lambda: self._confirm(slot, end.lsn))
        changes = batch.tables[config.source_table]
        if changes.num_rows == 0:
            raise NothingNew(
                f"no changes to {table.qualified} in slot {slot}: {batch.transactions} "
                f"transaction(s) of other tables, up to LSN {end.text}"
            )
        transactions = len(pc.unique(changes[LSN]))
        ctx.notes.append(
            f"{changes.num_rows} change(s) to {table.qualified} in {transactions} "
            f"transaction(s), up to LSN {end.text}"
        )
        if ctx.lineage:
            changes = _with_origin(changes, origin)
        return pa.RecordBatchReader.from_batches(
            changes.schema, changes.to_batches(max_chunksize=ctx.batch_size)
        )

    def _snapshot(
        self, ctx: ReadContext, table: SourceTable, start: Position, origin: str
    ) -> pa.RecordBatchReader:
        """The whole table, as of a snapshot taken after the slot's position ``start``."""
        schema = changes_table(table, []).schema
        if ctx.lineage:
            schema = schema.append(pa.field(SOURCE_COLUMN, pa.string()))
        ctx.remember(STATE, start.to_state())

        def batches() -> Iterator[pa.RecordBatch]:
            rows = 0
            with self._redacting(), self._connect() as conn:
                for chunk in read_snapshot(conn, table, lsn=start.lsn, batch_size=ctx.batch_size):
                    rows += chunk.num_rows
                    yield from (_with_origin(chunk, origin) if ctx.lineage else chunk).to_batches()
            ctx.notes.append(
                f"snapshot of {table.qualified}: {rows - 1} row(s), as of slot {start.slot} at "
                f"LSN {start.text}; later runs read changes from there"
            )

        return pa.RecordBatchReader.from_batches(schema, batches())

    def _confirmed(self, conn: psycopg.Connection[Any], slot: str) -> int:
        """How far ``slot`` is confirmed; a missing slot is a configuration error."""
        try:
            confirmed = slot_position(conn, slot).confirmed_lsn
        except ConfigError as exc:
            raise ConfigError(
                exc.message,
                hint="Set `create_slot: true` (the default), or create it on the server: "
                f"SELECT pg_create_logical_replication_slot('{slot}', 'wal2json').",
            ) from exc
        if confirmed is None:
            raise SourceError(
                f"replication slot {slot!r} has no confirmed position yet",
                hint="Another session is still creating it; retry.",
            )
        return confirmed

    def _confirm(self, slot: str, lsn: int) -> None:
        """After the warehouse committed: move the slot, so the server can recycle the WAL."""
        with self._redacting():
            try:
                with self._connect() as conn:
                    confirm(conn, slot, lsn)
            except psycopg.Error as exc:  # closing a connection that died meanwhile
                raise SourceError(
                    f"confirming slot {slot!r} at LSN {format_lsn(lsn)} failed: {exc}",
                    hint="The next run confirms it from the position the warehouse holds.",
                ) from exc

    # -- the connection and its secret --------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return connect(self.config.connection.get_secret_value())
        except ConfigError:
            # libpq quotes the token it stumbled on, which can be the password itself.
            raise ConfigError(
                "`connection` is not a valid PostgreSQL connection string (libpq's message is "
                "not shown: it may quote the password)",
                hint="Write a URL (postgresql://user:password@host:5432/dbname) or keywords "
                "(host=db port=5432 dbname=shop user=cdc password=...).",
            ) from None

    def _redacting(self) -> AbstractContextManager[None]:
        return _redacted(_secrets(self.config.connection.get_secret_value()))


def check_write(settings: SourceSettings, table: SourceTable) -> None:
    """The write disposition and key must fit a stream of changes to ``table``."""
    where = Location(table=table.qualified)
    if settings.write in ("replace", "insert_overwrite"):
        raise ConfigError(
            f"source {settings.name!r} reads changes; `write: {settings.write}` would replace "
            "the table's rows with one run's changes",
            hint="Use `write: merge` (the table mirrors the source), `write: scd2` (it keeps "
            "every version) or `write: append` (a log of the changes).",
            location=where,
        )
    if not settings.keyed:
        return
    key = table.key
    if not key:
        raise ConfigError(
            f"source {settings.name!r}: {table.qualified} has no primary key, so its changes "
            f"cannot be applied by key with `write: {settings.write}`",
            hint="Add a primary key to the source table, or load a log of its changes with "
            "`write: append`.",
            location=where,
        )
    wanted = f"`primary_key: [{', '.join(key)}]`"
    if not settings.primary_key:
        raise ConfigError(
            f"source {settings.name!r}: `write: {settings.write}` needs a `primary_key`",
            hint=f"Set {wanted}, the key of {table.qualified}.",
            location=where,
        )
    if {k.lower() for k in settings.primary_key} != {k.lower() for k in key}:
        raise ConfigError(
            f"source {settings.name!r}: primary_key {list(settings.primary_key)} is not the key "
            f"of {table.qualified} ({', '.join(key)})",
            hint=f"Set {wanted}: deletes and key changes name rows by the source table's key.",
            location=where,
        )


def _with_origin(table: pa.Table, origin: str) -> pa.Table:
    return table.append_column(
        pa.field(SOURCE_COLUMN, pa.string()), pa.array([origin] * table.num_rows, pa.string())
    )


def _secrets(dsn: str) -> list[str]:
    """What must never appear in a message: the connection string and its password."""
    found = [dsn]
    try:
        password = conninfo_to_dict(dsn.replace("postgresql+psycopg://", "postgresql://")).get(
            "password"
        )
    except psycopg.Error:
        password = None
    if password:
        found.append(str(password))
    return [secret for secret in found if secret]


@contextmanager
def _redacted(secrets: list[str]) -> Iterator[None]:
    """Re-raise Sluiceway errors with the secrets masked out of their message and hint."""
    try:
        yield
    except SluicewayError as exc:
        exc.message = _mask(exc.message, secrets)
        exc.hint = _mask(exc.hint, secrets) if exc.hint is not None else None
        exc.args = (exc.message,)
        raise


def _mask(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, _REDACTED)
    return text
