"""Log-based change data capture from PostgreSQL: WAL changes as insert/update/delete batches.

How it reads
------------
PostgreSQL's logical decoding turns the write-ahead log into row changes through an *output
plugin*, from a *replication slot* that remembers how far a consumer has confirmed. Sluiceway
uses the **wal2json** plugin in **format-version 2**, read through the **SQL slot functions**:

- ``pg_logical_slot_peek_changes`` decodes without consuming, so a batch can be re-read after a
  crash; ``pg_replication_slot_advance`` moves the slot only once the warehouse has committed the
  batch together with its ``end_lsn``. Peek → load → commit → confirm is exactly-once as long as
  the committed ``end_lsn`` is confirmed again on start-up (``confirm`` is idempotent), which
  covers a crash between the warehouse commit and the confirm.
- wal2json v2 writes one JSON object per change, with column names and type names, begin/commit
  markers and commit timestamps: nothing to guess. The built-in alternatives were weighed:
  ``pgoutput`` is binary and needs a replication-protocol connection (psycopg 3 has none) and a
  publication, i.e. DDL on the source; ``test_decoding`` is a text format meant for PostgreSQL's
  own tests, whose quoting of names and values a parser would have to reverse-engineer.
- The SQL interface returns whole transactions only (the row limit is checked at commits), and
  only committed ones: a rolled-back transaction never appears, nor does half of one.

Changes show once their commit is flushed to the WAL: on a server with ``synchronous_commit =
off`` a read can lag the commit by a few hundred milliseconds.

Costs to know: each peek decodes again from the slot's restart point, so confirm promptly; a
source transaction larger than ``max_changes`` still comes back whole, in memory; the slot holds
WAL on the source until confirmed, so a pipeline that stops for good must ``drop_slot``.

What the source server needs
----------------------------
``wal_level = logical`` (a restart), ``max_replication_slots`` above 0, the wal2json package for
its major version (Debian: ``postgresql-15-wal2json``), on servers that have the setting
``wal2json`` listed in ``output_plugin_libraries``, and a role with REPLICATION (or superuser).

Deletes carry only the key (primary key, else the replica identity index) unless the table has
``REPLICA IDENTITY FULL``; the same setting makes updates carry unchanged TOASTed values. See
:mod:`sluiceway.cdc.change_batch` for the rows' shape and :mod:`sluiceway.cdc.pg_types` for
the type mapping.

Example::

    conn = connect("postgresql://cdc@db/shop")
    ensure_slot(conn, "shop_orders")
    confirm(conn, "shop_orders", committed_lsn)  # the LSN the warehouse holds, if any
    batch = read_changes(conn, "shop_orders", tables=["public.orders"])
    ...  # load batch.tables["public.orders"] and batch.end_lsn in one warehouse transaction
    confirm(conn, "shop_orders", batch.end_lsn)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from sluiceway.cdc.change_batch import ChangeBatch, build_batch
from sluiceway.cdc.pg_catalog import SourceTable, describe_tables
from sluiceway.cdc.pg_errors import WAL_LEVEL_HINT, server_label, translate
from sluiceway.cdc.pg_lsn import as_lsn, format_lsn, parse_lsn
from sluiceway.cdc.wal2json import parse_transactions
from sluiceway.core.errors import ConfigError, SourceUnavailableError
from sluiceway.core.names import is_valid_slot_name

PLUGIN = "wal2json"
DEFAULT_MAX_CHANGES = 10_000


# Pinned for the peek's transaction only (set_config(..., true)): the plugin prints values with
# the session's settings, and the type converters expect exactly these text forms.
_SESSION = (
    ("TimeZone", "UTC"),
    ("DateStyle", "ISO, YMD"),
    ("IntervalStyle", "iso_8601"),
    ("extra_float_digits", "3"),
    ("bytea_output", "hex"),
)
_PIN_SESSION = "SELECT " + ", ".join("pg_catalog.set_config(%s, %s, true)" for _ in _SESSION)

_PEEK = """
SELECT lsn::text, data
FROM pg_catalog.pg_logical_slot_peek_changes(
    %s, %s::pg_lsn, %s,
    'format-version', '2',
    'include-transaction', 'true',
    'include-timestamp', 'true',
    'include-types', 'true',
    'include-typmod', 'true',
    'add-tables', %s)
"""

_SLOT = """
SELECT slot_type, plugin, database, confirmed_flush_lsn::text, restart_lsn::text
FROM pg_catalog.pg_replication_slots
WHERE slot_name = %s
"""


@dataclass(frozen=True, slots=True)
class SlotPosition:
    """Where a slot stands: confirmed up to ``confirmed_lsn``, WAL kept from ``restart_lsn``."""

    confirmed_lsn: int | None
    restart_lsn: int | None


def connect(dsn: str, *, connect_timeout: int = 10) -> psycopg.Connection[Any]:
    """An autocommit psycopg connection for change reading; unreachable is transient.

    ``dsn`` is a libpq URL or keyword string; a SQLAlchemy ``postgresql+psycopg://`` URL works.
    """
    dsn = re.sub(r"^postgresql\+\w+://", "postgresql://", dsn)
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"the PostgreSQL connection string is invalid: {exc}") from None
    where = f"{params.get('host') or 'localhost'}:{params.get('port') or 5432}"
    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=connect_timeout)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceUnavailableError(
            f"cannot connect to PostgreSQL at {where}: {first}",
            hint="Check that the server is running and accepts connections from here "
            "(listen_addresses, pg_hba.conf), then retry.",
        ) from exc


def check_server(conn: psycopg.Connection[Any]) -> None:
    """Raise unless the server can decode its log (reads settings only; changes nothing)."""
    try:
        with conn.transaction():
            wal_level = conn.execute("SELECT pg_catalog.current_setting('wal_level')").fetchone()
            slots = conn.execute(
                "SELECT pg_catalog.current_setting('max_replication_slots')::int"
            ).fetchone()
    except psycopg.Error as exc:
        raise translate(exc, conn, doing="reading the server's settings") from exc
    level = wal_level[0] if wal_level else None
    if level != "logical":
        raise SourceUnavailableError(
            f"PostgreSQL at {server_label(conn)} has wal_level = {level}; "
            "log-based change capture needs wal_level = logical",
            hint=WAL_LEVEL_HINT,
        )
    if not slots or slots[0] < 1:
        raise SourceUnavailableError(
            f"PostgreSQL at {server_label(conn)} has max_replication_slots = 0",
            hint=WAL_LEVEL_HINT,
        )


def _check_slot_name(slot: str) -> None:
    if not is_valid_slot_name(slot):
        raise ConfigError(
            f"{slot!r} is not a valid replication slot name",
            hint="Use 1 to 63 lower-case letters, digits and underscores.",
        )


def pin_output_settings(conn: psycopg.Connection[Any]) -> None:
    """Pin, for the current transaction only, the settings that decide how values print as text.

    The change reader and the snapshot reader both call it, so a value reads the same whether
    it came from the log or from the table.
    """
    conn.execute(_PIN_SESSION, [v for pair in _SESSION for v in pair])


def _slot_row(conn: psycopg.Connection[Any], slot: str) -> tuple[Any, ...] | None:
    try:
        with conn.transaction():
            return conn.execute(_SLOT, (slot,)).fetchone()
    except psycopg.Error as exc:
        raise translate(exc, conn, doing=f"looking up slot {slot!r}", slot=slot) from exc


def _check_slot_fits(
    conn: psycopg.Connection[Any], slot: str, row: tuple[Any, ...], plugin: str
) -> None:
    slot_type, slot_plugin, database = row[0], row[1], row[2]
    if slot_type != "logical":
        raise ConfigError(
            f"replication slot {slot!r} is a {slot_type} slot, not a logical one",
            hint="Pick another slot name for change capture.",
        )
    if database != conn.info.dbname:
        raise ConfigError(
            f"replication slot {slot!r} belongs to database {database!r}, not {conn.info.dbname!r}",
            hint="Connect to the slot's database, or pick another slot name.",
        )
    if slot_plugin != plugin:
        raise ConfigError(
            f"replication slot {slot!r} decodes with {slot_plugin!r}, not {plugin!r}",
            hint=f"Pick another slot name, or drop this slot if nothing else uses it "
            f"(SELECT pg_drop_replication_slot('{slot}')).",
        )


def ensure_slot(conn: psycopg.Connection[Any], slot: str, plugin: str = PLUGIN) -> bool:
    """Create the logical replication ``slot`` unless it exists; ``True`` when it was created.

    The slot starts at the current end of the log: changes made before it are not decoded, so
    take the initial snapshot of the tables after this returns. Creating a slot waits for the
    transactions running on the server to finish.
    """
    _check_slot_name(slot)
    check_server(conn)
    existing = _slot_row(conn, slot)
    if existing is not None:
        _check_slot_fits(conn, slot, existing, plugin)
        return False
    try:
        with conn.transaction():
            conn.execute(
                "SELECT pg_catalog.pg_create_logical_replication_slot(%s, %s)", (slot, plugin)
            )
    except psycopg.errors.DuplicateObject:  # created meanwhile by a concurrent caller
        return False
    except psycopg.Error as exc:
        raise translate(
            exc, conn, doing=f"creating slot {slot!r} with plugin {plugin!r}", plugin=plugin
        ) from exc
    return True


def drop_slot(conn: psycopg.Connection[Any], slot: str) -> bool:
    """Drop ``slot`` so the server stops keeping WAL for it; ``False`` when it did not exist."""
    _check_slot_name(slot)
    try:
        with conn.transaction():
            dropped = conn.execute(
                "SELECT pg_catalog.pg_drop_replication_slot(slot_name) "
                "FROM pg_catalog.pg_replication_slots WHERE slot_name = %s",
                (slot,),
            ).fetchall()
    except psycopg.Error as exc:
        raise translate(exc, conn, doing=f"dropping slot {slot!r}", slot=slot) from exc
    return bool(dropped)


def slot_position(conn: psycopg.Connection[Any], slot: str) -> SlotPosition:
    """How far ``slot`` is confirmed, and from where the server keeps WAL for it."""
    _check_slot_name(slot)
    row = _slot_row(conn, slot)
    if row is None:
        raise ConfigError(
            f"replication slot {slot!r} does not exist on {server_label(conn)}",
            hint=f"Create it with ensure_slot(conn, {slot!r}).",
        )
    return SlotPosition(
        confirmed_lsn=parse_lsn(row[3]) if row[3] else None,
        restart_lsn=parse_lsn(row[4]) if row[4] else None,
    )


def _add_tables(tables: dict[str, SourceTable]) -> str:
    # wal2json splits on "," and ".", ends a name at white space and treats "*" as a wildcard;
    # a backslash makes the next character literal, so escape everything but [A-Za-z0-9_].
    def escape(name: str) -> str:
        return re.sub(r"([^A-Za-z0-9_])", r"\\\1", name)

    return ",".join(f"{escape(t.schema)}.{escape(t.table)}" for t in tables.values())


def read_changes(
    conn: psycopg.Connection[Any],
    slot: str,
    *,
    tables: Sequence[str],
    upto_lsn: int | str | None = None,
    max_changes: int = DEFAULT_MAX_CHANGES,
) -> ChangeBatch:
    """Peek at the changes waiting in ``slot`` for ``tables``, without consuming them.

    Returns complete transactions committed after the slot's confirmed position (and, when
    ``upto_lsn`` is given, those whose commit record ends by then), stopping after the
    transaction that brings the decoded output to ``max_changes`` entries or more; every
    transaction counts a begin and a commit entry besides its changes, and one transaction larger
    than the limit still comes back whole. Reading again before :func:`confirm` returns the same
    batch (plus anything committed since, up to the limits). Table names are written as in SQL
    (``orders``, ``sales.orders``, ``"Mixed Case"``) and key the batch's tables.
    """
    _check_slot_name(slot)
    if max_changes < 1:
        raise ConfigError(f"max_changes must be at least 1, not {max_changes}")
    followed = describe_tables(conn, tables)
    row = _slot_row(conn, slot)
    if row is None:
        raise ConfigError(
            f"replication slot {slot!r} does not exist on {server_label(conn)}",
            hint=f"Create it with ensure_slot(conn, {slot!r}) before reading changes.",
        )
    _check_slot_fits(conn, slot, row, PLUGIN)
    upto = None if upto_lsn is None else format_lsn(as_lsn(upto_lsn))
    try:
        with conn.transaction():
            pin_output_settings(conn)
            rows = conn.execute(_PEEK, (slot, upto, max_changes, _add_tables(followed))).fetchall()
    except psycopg.Error as exc:
        raise translate(exc, conn, doing=f"reading changes from slot {slot!r}", slot=slot) from exc
    return build_batch(followed, parse_transactions(rows))


def confirm(conn: psycopg.Connection[Any], slot: str, lsn: int | str) -> int:
    """Move ``slot`` to ``lsn`` once the warehouse has committed everything before it.

    Idempotent: confirming a position the slot has already passed changes nothing. Returns the
    slot's confirmed position afterwards.
    """
    target = as_lsn(lsn)
    current = slot_position(conn, slot).confirmed_lsn
    if current is not None and current >= target:
        return current
    try:
        with conn.transaction():
            moved = conn.execute(
                "SELECT end_lsn::text FROM pg_catalog.pg_replication_slot_advance(%s, %s::pg_lsn)",
                (slot, format_lsn(target)),
            ).fetchone()
    except psycopg.Error as exc:
        raise translate(exc, conn, doing=f"confirming slot {slot!r}", slot=slot) from exc
    return parse_lsn(moved[0]) if moved and moved[0] else target
