"""Log-based change capture from PostgreSQL: wal2json read through the SQL slot functions.

The tests run against a private cluster started with ``wal_level = logical`` (see
``pg_logical.py``): the shared server on 127.0.0.1:5432 is only ever read from here. Each test
gets a database of its own on the private cluster; its slots and the database are dropped after.
All tests of this file go to one xdist worker, which starts the cluster once (the cluster
fixtures are in ``conftest.py``, shared with the pipeline tests in ``test_cdc_pipeline.py``).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pyarrow as pa
import pytest
from psycopg import sql

from sluiceway.cdc import (
    COMMIT_TS,
    LSN,
    OP,
    SEQ,
    UNCHANGED,
    ChangeBatch,
    check_server,
    confirm,
    connect,
    drop_slot,
    ensure_slot,
    format_lsn,
    parse_lsn,
    read_changes,
    slot_position,
)
from sluiceway.cdc.wal2json import parse_transactions
from sluiceway.core.errors import ConfigError, ErrorClass, SourceError, SourceUnavailableError
from tests.conftest import service_unavailable
from tests.integration.pg_logical import PrivateCluster

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("pg_logical")]

SLOT = "sluiceway_test"
SHARED_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"

Conn = psycopg.Connection[Any]


@pytest.fixture
def conn(logical_database: str) -> Iterator[Conn]:
    """The change reader's connection."""
    with connect(logical_database) as reader:
        yield reader


@pytest.fixture
def source(logical_database: str) -> Iterator[Conn]:
    """The application writing to the source tables, in a time zone away from UTC."""
    with psycopg.connect(logical_database, autocommit=True) as writer:
        writer.execute("SET TimeZone = 'America/New_York'")
        yield writer


def _rows(batch: ChangeBatch, table: str, *columns: str) -> list[tuple[Any, ...]]:
    return [tuple(row[c] for c in columns) for row in batch.tables[table].to_pylist()]


def _items(source: Conn) -> None:
    source.execute("CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, qty integer)")


# --- reading ----------------------------------------------------------------------------------


def test_changes_come_in_commit_order_with_exact_values(conn: Conn, source: Conn) -> None:
    _items(source)
    assert ensure_slot(conn, SLOT) is True
    assert ensure_slot(conn, SLOT) is False  # idempotent
    started = datetime.now(UTC)
    source.execute("INSERT INTO items VALUES (1, 'apple', 3), (2, 'pear', 5)")
    with source.transaction():  # several statements, one source transaction
        source.execute("UPDATE items SET qty = 4 WHERE id = 1")
        source.execute("INSERT INTO items VALUES (3, 'plum', 7)")
        source.execute("DELETE FROM items WHERE id = 2")
    with source.transaction(force_rollback=True):
        source.execute("INSERT INTO items VALUES (99, 'ghost', 0)")
    source.execute("UPDATE items SET name = 'PLUM' WHERE id = 3")

    batch = read_changes(conn, SLOT, tables=["items"])

    assert _rows(batch, "items", OP, "id", "name", "qty") == [
        ("insert", 1, "apple", 3),
        ("insert", 2, "pear", 5),
        ("update", 1, "apple", 4),
        ("insert", 3, "plum", 7),
        ("delete", 2, None, None),  # REPLICA IDENTITY DEFAULT: the key only
        ("update", 3, "PLUM", 7),
    ]
    assert batch.transactions == 3
    assert batch.rows == 6
    table = batch.tables["items"]
    lsns = table[LSN].to_pylist()
    assert lsns[0] == lsns[1] < lsns[2] == lsns[3] == lsns[4] < lsns[5]
    assert table[SEQ].to_pylist() == [0, 1, 0, 1, 2, 0]
    assert batch.end_lsn == lsns[-1]
    assert batch.end_lsn_text == format_lsn(lsns[-1])
    stamps = table[COMMIT_TS].to_pylist()
    assert stamps == sorted(stamps)
    assert started - timedelta(seconds=5) <= stamps[0] <= datetime.now(UTC)
    assert table[UNCHANGED].null_count == table.num_rows
    assert table.schema.field("id").type == pa.int32()
    assert table.schema.names[:3] == ["id", "name", "qty"]


def test_transactions_are_ordered_by_commit_not_by_start(
    conn: Conn, source: Conn, logical_database: str
) -> None:
    _items(source)
    ensure_slot(conn, SLOT)
    with psycopg.connect(logical_database) as early:  # not autocommit: its transaction stays open
        early.execute("INSERT INTO items VALUES (1, 'first written', 1)")
        source.execute("INSERT INTO items VALUES (2, 'first committed', 2)")
        early.commit()
    batch = read_changes(conn, SLOT, tables=["items"])
    assert _rows(batch, "items", "id", OP) == [(2, "insert"), (1, "insert")]
    lsns = batch.tables["items"][LSN].to_pylist()
    assert lsns[0] < lsns[1]


def test_peek_reads_again_until_confirmed(conn: Conn, source: Conn) -> None:
    _items(source)
    ensure_slot(conn, SLOT)
    source.execute("INSERT INTO items VALUES (1, 'apple', 3)")
    source.execute("UPDATE items SET qty = 2 WHERE id = 1")

    first = read_changes(conn, SLOT, tables=["items"])
    again = read_changes(conn, SLOT, tables=["items"])
    assert first.rows == 2
    assert again.tables["items"].equals(first.tables["items"])
    assert again.end_lsn == first.end_lsn

    assert first.end_lsn is not None
    assert confirm(conn, SLOT, first.end_lsn) == first.end_lsn
    assert slot_position(conn, SLOT).confirmed_lsn == first.end_lsn
    drained = read_changes(conn, SLOT, tables=["items"])
    assert (drained.rows, drained.transactions, drained.end_lsn) == (0, 0, None)
    assert drained.tables["items"].schema == first.tables["items"].schema

    source.execute("DELETE FROM items WHERE id = 1")
    newer = read_changes(conn, SLOT, tables=["items"])
    assert _rows(newer, "items", OP, "id") == [("delete", 1)]
    assert newer.end_lsn is not None
    assert newer.end_lsn > first.end_lsn

    # Confirming a position already passed (a restart re-confirming what the warehouse holds)
    # changes nothing; text and integer positions are the same thing.
    assert confirm(conn, SLOT, format_lsn(first.end_lsn)) == first.end_lsn
    assert read_changes(conn, SLOT, tables=["items"]).tables["items"].equals(newer.tables["items"])
    confirm(conn, SLOT, newer.end_lsn)
    assert read_changes(conn, SLOT, tables=["items"]).end_lsn is None


def test_rolled_back_work_produces_nothing(conn: Conn, source: Conn) -> None:
    _items(source)
    ensure_slot(conn, SLOT)
    with source.transaction(force_rollback=True):
        source.execute("INSERT INTO items VALUES (1, 'never', 1)")
    empty = read_changes(conn, SLOT, tables=["items"])
    assert (empty.rows, empty.transactions, empty.end_lsn) == (0, 0, None)

    with source.transaction():
        source.execute("INSERT INTO items VALUES (2, 'kept', 2)")
        with source.transaction(force_rollback=True):  # a savepoint rolled back
            source.execute("INSERT INTO items VALUES (3, 'dropped', 3)")
        source.execute("INSERT INTO items VALUES (4, 'kept too', 4)")
    batch = read_changes(conn, SLOT, tables=["items"])
    assert _rows(batch, "items", OP, "id", SEQ) == [("insert", 2, 0), ("insert", 4, 1)]
    assert batch.transactions == 1


def test_a_batch_never_splits_a_transaction(conn: Conn, source: Conn) -> None:
    _items(source)
    ensure_slot(conn, SLOT)
    for txn in range(5):
        with source.transaction():
            for i in range(3):
                source.execute("INSERT INTO items VALUES (%s, %s, %s)", (txn * 3 + i, f"n{txn}", i))

    seen: list[int] = []
    sizes: list[int] = []
    while (batch := read_changes(conn, SLOT, tables=["items"], max_changes=6)).end_lsn:
        table = batch.tables["items"]
        lsns = table[LSN].to_pylist()
        assert table.num_rows == 3 * batch.transactions
        assert all(lsns.count(lsn) == 3 for lsn in lsns)
        seen.extend(table["id"].to_pylist())
        sizes.append(batch.transactions)
        confirm(conn, SLOT, batch.end_lsn)
    assert seen == list(range(15))
    # Each transaction decodes to 5 entries (begin, 3 rows, commit): the limit of 6 is checked
    # after whole transactions, so batches hold 2 of them.
    assert sizes == [2, 2, 1]


def test_upto_lsn_stops_after_the_transactions_committed_by_then(conn: Conn, source: Conn) -> None:
    _items(source)
    ensure_slot(conn, SLOT)
    for i in range(3):
        source.execute("INSERT INTO items VALUES (%s, 'x', 0)", (i,))
    everything = read_changes(conn, SLOT, tables=["items"])
    ends = everything.tables["items"][LSN].to_pylist()
    partial = read_changes(conn, SLOT, tables=["items"], upto_lsn=format_lsn(ends[1]))
    assert _rows(partial, "items", "id") == [(0,), (1,)]
    assert partial.end_lsn == ends[1]


def test_changes_to_other_tables_still_advance_the_slot(conn: Conn, source: Conn) -> None:
    _items(source)
    source.execute("CREATE TABLE other (id integer PRIMARY KEY)")
    ensure_slot(conn, SLOT)
    source.execute("INSERT INTO other VALUES (1)")
    batch = read_changes(conn, SLOT, tables=["items"])
    assert batch.rows == 0
    assert batch.transactions == 1
    assert batch.end_lsn is not None  # confirm it, or the server keeps that WAL forever
    confirm(conn, SLOT, batch.end_lsn)
    assert slot_position(conn, SLOT).confirmed_lsn == batch.end_lsn


def test_several_tables_and_awkward_names(conn: Conn, source: Conn) -> None:
    source.execute('CREATE SCHEMA "Sales Dept"')
    source.execute('CREATE TABLE "Sales Dept"."Odd.Name, x*" (id integer PRIMARY KEY, v text)')
    source.execute('CREATE TABLE "Sales Dept"."Odd.Name, xy" (id integer PRIMARY KEY, v text)')
    _items(source)
    ensure_slot(conn, SLOT)
    with source.transaction():
        source.execute("""INSERT INTO "Sales Dept"."Odd.Name, x*" VALUES (1, 'odd')""")
        source.execute("""INSERT INTO "Sales Dept"."Odd.Name, xy" VALUES (2, 'not followed')""")
        source.execute("INSERT INTO items VALUES (3, 'plain', 1)")
    odd = '"Sales Dept"."Odd.Name, x*"'
    batch = read_changes(conn, SLOT, tables=[odd, "public.items"])
    assert set(batch.tables) == {odd, "public.items"}
    assert _rows(batch, odd, "id", "v", SEQ) == [(1, "odd", 0)]
    # seq orders the followed tables' changes inside the transaction, across those tables.
    assert _rows(batch, "public.items", "id", SEQ) == [(3, 1)]


def test_deletes_carry_the_whole_row_only_with_replica_identity_full(
    conn: Conn, source: Conn
) -> None:
    source.execute("CREATE TABLE plain (id integer PRIMARY KEY, name text)")
    source.execute("CREATE TABLE wide (id integer PRIMARY KEY, name text)")
    source.execute("CREATE TABLE nokey (a integer, b text)")
    source.execute("ALTER TABLE wide REPLICA IDENTITY FULL")
    source.execute("ALTER TABLE nokey REPLICA IDENTITY FULL")
    ensure_slot(conn, SLOT)
    for table in ("plain", "wide"):
        source.execute(sql.SQL("INSERT INTO {} VALUES (1, 'a')").format(sql.Identifier(table)))
        source.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
    source.execute("INSERT INTO nokey VALUES (1, 'x'), (1, 'y')")
    source.execute("DELETE FROM nokey WHERE b = 'y'")
    batch = read_changes(conn, SLOT, tables=["plain", "wide", "nokey"])
    assert _rows(batch, "plain", OP, "id", "name") == [("insert", 1, "a"), ("delete", 1, None)]
    assert _rows(batch, "wide", OP, "id", "name") == [("insert", 1, "a"), ("delete", 1, "a")]
    assert _rows(batch, "nokey", OP, "a", "b") == [
        ("insert", 1, "x"),
        ("insert", 1, "y"),
        ("delete", 1, "y"),
    ]


def test_an_update_of_the_key_is_a_delete_then_an_insert(conn: Conn, source: Conn) -> None:
    _items(source)
    source.execute("INSERT INTO items VALUES (1, 'apple', 3)")
    ensure_slot(conn, SLOT)
    source.execute("UPDATE items SET id = 10, qty = 4 WHERE id = 1")
    batch = read_changes(conn, SLOT, tables=["items"])
    assert _rows(batch, "items", OP, "id", "name", "qty", SEQ) == [
        ("delete", 1, None, None, 0),
        ("insert", 10, "apple", 4, 1),
    ]


def test_unchanged_toasted_values_are_named_not_nulled(conn: Conn, source: Conn) -> None:
    body = "".join(uuid.uuid4().hex for _ in range(1000))  # 32 kB that barely compresses
    for table in ("docs", "docs_full"):
        source.execute(
            sql.SQL("CREATE TABLE {} (id integer PRIMARY KEY, title text, body text)").format(
                sql.Identifier(table)
            )
        )
        source.execute(
            sql.SQL("INSERT INTO {} VALUES (1, 'draft', %s)").format(sql.Identifier(table)),
            (body,),
        )
    source.execute("ALTER TABLE docs_full REPLICA IDENTITY FULL")
    ensure_slot(conn, SLOT)
    source.execute("UPDATE docs SET title = 'final'")
    source.execute("UPDATE docs_full SET title = 'final'")
    source.execute("UPDATE docs SET body = 'short'")
    batch = read_changes(conn, SLOT, tables=["docs", "docs_full"])
    assert _rows(batch, "docs", OP, "title", "body", UNCHANGED) == [
        ("update", "final", None, ["body"]),
        ("update", "final", "short", None),
    ]
    assert _rows(batch, "docs_full", OP, "title", "body", UNCHANGED) == [
        ("update", "final", body, None)
    ]


def test_truncate_is_a_row_of_its_own(conn: Conn, source: Conn) -> None:
    _items(source)
    ensure_slot(conn, SLOT)
    with source.transaction():
        source.execute("INSERT INTO items VALUES (1, 'a', 1)")
        source.execute("TRUNCATE items")
        source.execute("INSERT INTO items VALUES (2, 'b', 2)")
    batch = read_changes(conn, SLOT, tables=["items"])
    assert _rows(batch, "items", OP, "id", SEQ) == [
        ("insert", 1, 0),
        ("truncate", None, 1),
        ("insert", 2, 2),
    ]


def test_columns_added_or_dropped_on_the_way_are_kept(conn: Conn, source: Conn) -> None:
    source.execute("CREATE TABLE evolving (id integer PRIMARY KEY, gone numeric(6,2))")
    ensure_slot(conn, SLOT)
    source.execute("INSERT INTO evolving VALUES (1, 1.25)")
    source.execute("ALTER TABLE evolving ADD COLUMN note text")
    source.execute("INSERT INTO evolving VALUES (2, 2.5, 'new')")
    source.execute("ALTER TABLE evolving DROP COLUMN gone")
    source.execute("INSERT INTO evolving VALUES (3, 'after')")
    table = read_changes(conn, SLOT, tables=["evolving"]).tables["evolving"]
    # Catalog columns first, in table order; then what the log still carries of a dropped one.
    assert table.schema.names[:3] == ["id", "note", "gone"]
    assert table.schema.field("gone").type == pa.decimal128(6, 2)
    assert [(r["id"], r["note"], r["gone"]) for r in table.to_pylist()] == [
        (1, None, Decimal("1.25")),
        (2, "new", Decimal("2.50")),
        (3, "after", None),
    ]


def test_types_map_to_arrow(conn: Conn, source: Conn) -> None:
    source.execute("CREATE DOMAIN posint AS integer CHECK (VALUE > 0)")
    source.execute("CREATE TYPE mood AS ENUM ('sad', 'happy')")
    source.execute(
        """
        CREATE TABLE typed (
            id bigint PRIMARY KEY, small smallint, int integer, real real, dbl double precision,
            num numeric(12,4), num_free numeric, num_wide numeric(50,10), flag boolean,
            label varchar(20), letter char(2), body text, doc jsonb, raw json, uid uuid,
            blob bytea, day date, at timestamp(3), at_tz timestamptz, clock time,
            span interval, tags text[], pos posint, feeling mood
        )
        """
    )
    ensure_slot(conn, SLOT)
    # The reader's own settings must not matter: the read pins what the plugin prints with.
    conn.execute("SET TimeZone = 'Asia/Tokyo'")
    conn.execute("SET DateStyle = 'SQL, DMY'")
    source.execute(
        """
        INSERT INTO typed VALUES (
            9223372036854775807, 32767, -2147483648, 1.5, 0.1,
            12345678.1234, '3.14159265358979323846264338327950288419716939937510',
            '1234567890123456789012345678901234567890.0123456789', true,
            'héllo ✓', 'a', E'line1\\nline2 "quoted" \\\\ back', '{"b": [1, 2], "a": null}',
            '{"keep":  "spacing"}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00ff6162',
            '2024-02-29', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.5+02',
            '23:59:59.999999', '1 day 02:03:04', '{a,"b c"}', 7, 'happy'
        )
        """
    )
    source.execute("INSERT INTO typed (id) VALUES (2)")
    source.execute(
        "INSERT INTO typed (id, dbl, day, at, clock, num_free) "
        "VALUES (3, 'NaN', 'infinity', '-infinity', '24:00:00', 'NaN')"
    )
    table = read_changes(conn, SLOT, tables=["typed"]).tables["typed"]
    assert conn.execute("SHOW DateStyle").fetchone() == ("SQL, DMY",)

    expected_types = {
        "id": pa.int64(),
        "small": pa.int16(),
        "int": pa.int32(),
        "real": pa.float32(),
        "dbl": pa.float64(),
        "num": pa.decimal128(12, 4),
        "num_free": pa.string(),
        "num_wide": pa.decimal256(50, 10),
        "flag": pa.bool_(),
        "label": pa.string(),
        "letter": pa.string(),
        "body": pa.string(),
        "doc": pa.string(),
        "raw": pa.string(),
        "uid": pa.string(),
        "blob": pa.binary(),
        "day": pa.date32(),
        "at": pa.timestamp("us"),
        "at_tz": pa.timestamp("us", tz="UTC"),
        "clock": pa.time64("us"),
        "span": pa.string(),
        "tags": pa.string(),
        "pos": pa.int32(),
        "feeling": pa.string(),
    }
    assert {name: table.schema.field(name).type for name in expected_types} == expected_types

    full, empty, special = table.to_pylist()
    values = {name: full[name] for name in expected_types}
    assert values == {
        "id": 9223372036854775807,
        "small": 32767,
        "int": -2147483648,
        "real": 1.5,
        "dbl": 0.1,
        "num": Decimal("12345678.1234"),
        "num_free": "3.14159265358979323846264338327950288419716939937510",
        "num_wide": Decimal("1234567890123456789012345678901234567890.0123456789"),
        "flag": True,
        "label": "héllo ✓",
        "letter": "a ",  # char(n) pads
        "body": 'line1\nline2 "quoted" \\ back',
        "doc": '{"a": null, "b": [1, 2]}',  # jsonb normalises
        "raw": '{"keep":  "spacing"}',  # json keeps the text
        "uid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "blob": b"\x00\xffab",
        "day": date(2024, 2, 29),
        "at": datetime(2024, 1, 2, 3, 4, 5, 123000),  # timestamp(3) rounds
        "at_tz": datetime(2024, 1, 2, 1, 4, 5, 500000, tzinfo=UTC),
        "clock": time(23, 59, 59, 999999),
        "span": "P1DT2H3M4S",
        "tags": '{a,"b c"}',
        "pos": 7,
        "feeling": "happy",
    }
    assert all(empty[name] is None for name in expected_types if name != "id")
    # No Arrow value for these (documented in sluiceway.cdc.pg_types): they arrive as null.
    assert [special[c] for c in ("dbl", "day", "at", "clock", "num_free")] == [None] * 5


# --- errors -----------------------------------------------------------------------------------


def test_a_missing_table_is_a_config_error(conn: Conn) -> None:
    ensure_slot(conn, SLOT)
    with pytest.raises(ConfigError, match="'nowhere' does not exist") as caught:
        read_changes(conn, SLOT, tables=["nowhere"])
    assert caught.value.location is not None
    assert caught.value.location.table == "nowhere"
    with pytest.raises(ConfigError, match="not a table name"):
        read_changes(conn, SLOT, tables=["a.b.c.d"])
    with pytest.raises(ConfigError, match="list of table names"):
        read_changes(conn, SLOT, tables="items")


def test_tables_that_cannot_be_followed_are_refused(conn: Conn, source: Conn) -> None:
    source.execute("CREATE TABLE keyless (a integer)")
    source.execute("CREATE TABLE meta (id integer PRIMARY KEY, _sluiceway_op text)")
    source.execute("CREATE VIEW keyless_view AS SELECT * FROM keyless")
    _items(source)
    ensure_slot(conn, SLOT)
    with pytest.raises(ConfigError, match="no primary key") as caught:
        read_changes(conn, SLOT, tables=["keyless"])
    assert "REPLICA IDENTITY FULL" in (caught.value.hint or "")
    with pytest.raises(ConfigError, match="reserves"):
        read_changes(conn, SLOT, tables=["meta"])
    with pytest.raises(ConfigError, match="not a table"):
        read_changes(conn, SLOT, tables=["keyless_view"])
    with pytest.raises(ConfigError, match="listed twice"):
        read_changes(conn, SLOT, tables=["items", "public.items"])
    with pytest.raises(ConfigError, match="max_changes"):
        read_changes(conn, SLOT, tables=["items"], max_changes=0)


def test_slot_problems_are_config_errors(conn: Conn, source: Conn) -> None:
    _items(source)
    with pytest.raises(ConfigError, match="does not exist") as caught:
        read_changes(conn, SLOT, tables=["items"])
    assert "ensure_slot" in (caught.value.hint or "")
    with pytest.raises(ConfigError, match="not a valid replication slot name"):
        ensure_slot(conn, "Bad-Name")
    assert ensure_slot(conn, "other_plugin", plugin="test_decoding") is True
    with pytest.raises(ConfigError, match="decodes with 'test_decoding'"):
        ensure_slot(conn, "other_plugin")
    with pytest.raises(ConfigError, match="decodes with 'test_decoding'"):
        read_changes(conn, "other_plugin", tables=["items"])
    assert drop_slot(conn, "other_plugin") is True
    assert drop_slot(conn, "other_plugin") is False


def test_a_missing_or_forbidden_plugin_is_a_config_error(conn: Conn) -> None:
    allow_list = conn.execute(
        "SELECT count(*) FROM pg_settings WHERE name = 'output_plugin_libraries'"
    ).fetchone() == (1,)
    if allow_list:
        with pytest.raises(ConfigError, match="may not be used as an output plugin") as caught:
            ensure_slot(conn, "nope", plugin="no_such_plugin")
        assert "output_plugin_libraries" in (caught.value.hint or "")
        conn.execute("SET output_plugin_libraries = 'no_such_plugin'")  # superuser, session only
    with pytest.raises(ConfigError, match="no_such_plugin") as missing:
        ensure_slot(conn, "nope", plugin="no_such_plugin")
    assert "Install the output plugin" in (missing.value.hint or "")
    # The failed creations left no slot behind.
    assert conn.execute("SELECT count(*) FROM pg_replication_slots").fetchone() == (0,)


def test_wal_level_replica_is_reported_before_anything_is_created(
    replica_cluster: PrivateCluster,
) -> None:
    with connect(replica_cluster.dsn()) as replica:
        with pytest.raises(SourceUnavailableError, match="wal_level = replica") as caught:
            ensure_slot(replica, SLOT)
        assert caught.value.error_class is ErrorClass.TRANSIENT
        assert "wal_level = logical" in (caught.value.hint or "")
        assert replica.execute("SELECT count(*) FROM pg_replication_slots").fetchone() == (0,)


def test_the_shared_server_is_checked_read_only() -> None:
    """check_server judges the shared server by its settings alone, whatever its wal_level."""
    try:
        shared = connect(SHARED_SERVER, connect_timeout=5)
    except SourceUnavailableError as exc:
        service_unavailable(f"PostgreSQL at 127.0.0.1:5432 is not reachable: {exc.message}")
    with shared:
        level = shared.execute("SHOW wal_level").fetchone()
        if level == ("logical",):
            check_server(shared)  # a logical server passes the check
        else:
            with pytest.raises(SourceUnavailableError, match="needs wal_level = logical"):
                check_server(shared)
        assert shared.execute("SHOW wal_level").fetchone() == level  # nothing was changed


def test_an_unreachable_server_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(SourceUnavailableError, match=f"127.0.0.1:{port}") as caught:
            connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=3)
    assert caught.value.error_class is ErrorClass.TRANSIENT


# --- pure parts -------------------------------------------------------------------------------


def test_lsn_text_round_trips() -> None:
    assert parse_lsn("16/B374D848") == 0x16B374D848
    assert format_lsn(parse_lsn("0/0")) == "0/0"
    assert format_lsn(parse_lsn("FFFFFFFF/FFFFFFFF")) == "FFFFFFFF/FFFFFFFF"
    with pytest.raises(ConfigError, match="not a PostgreSQL LSN"):
        parse_lsn("16B374D848")


def test_only_complete_transactions_are_parsed() -> None:
    rows = [
        ("0/10", '{"action":"B"}'),
        ("0/10", '{"action":"I","schema":"s","table":"t","columns":[{"name":"n","value":1.10}]}'),
        ("0/20", '{"action":"C","timestamp":"2025-01-02 03:04:05.6+00"}'),
        ("0/20", '{"action":"B"}'),
        ("0/28", '{"action":"M","prefix":"p","content":"c"}'),
        ("0/30", '{"action":"D","schema":"s","table":"t","identity":[{"name":"n","value":2}]}'),
    ]
    (only,) = parse_transactions(rows)
    assert only.end_lsn == 0x20
    assert only.commit_ts == datetime(2025, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    assert only.changes[0].columns == {"n": Decimal("1.10")}  # numbers keep their digits
    with pytest.raises(SourceError, match="outside a transaction"):
        parse_transactions([("0/10", '{"action":"I","schema":"s","table":"t"}')])
    with pytest.raises(SourceError, match="cannot read"):
        parse_transactions([("0/10", "not json")])
