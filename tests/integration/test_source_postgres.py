"""The ``postgres`` source against the real server: every type family, bounded batches, flat
memory, queries, incremental reads through the runner (the bound in the SQL), keys from the
catalog, and errors that name the server but never the password."""

from __future__ import annotations

import json
import socket
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pyarrow as pa
import pytest
from pydantic import SecretStr

from sluiceway.core.errors import (
    CancelledError,
    ConfigError,
    SluicewayError,
    SourceNotFoundError,
    SourceUnavailableError,
)
from sluiceway.core.status import RunStatus
from sluiceway.engine.runner import error_text
from sluiceway.sources.base import CursorBounds, ReadContext
from sluiceway.sources.sql import ForeignKey, PostgresSource, PostgresSpec
from tests.conftest import RunPipeline, WritePipeline
from tests.source_context import read_context

pytestmark = pytest.mark.integration

PASSWORD = "pw-Zq81xK"  # a made-up password that must never be printed


@pytest.fixture
def dsn(pg_url: str) -> str:
    """This test's database as a libpq URL."""
    return pg_url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def db(dsn: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        yield conn


def source(dsn: str, **fields: Any) -> PostgresSource:
    return PostgresSource(
        PostgresSpec.model_validate({"type": "postgres", "connection": dsn, **fields})
    )


def context(tmp_path: Path, *, batch_size: int = 1000, lineage: bool = False) -> ReadContext:
    return read_context(tmp_path, batch_size=batch_size, lineage=lineage)


def rows(reader: pa.RecordBatchReader) -> list[dict[str, Any]]:
    return list(reader.read_all().to_pylist())


TYPES = """
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE every_type (
    id integer PRIMARY KEY, flag boolean, small smallint, big bigint, real_ real,
    dbl double precision, price numeric(10, 2), huge numeric(50, 5), free numeric,
    name text, code varchar(5), letter char(2), doc jsonb, raw json, uid uuid, bytes bytea,
    day date, at timestamp, at_tz timestamptz, clock time, span interval, feeling mood,
    counts integer[], tags text[], feelings mood[], positives posint[], prices numeric(6, 2)[],
    addr inet
)
"""
VALUES = """
INSERT INTO every_type VALUES (
    1, true, -3, 9007199254740993, 1.5, 2.25, 12.34, 123456789012345678901234567890.12345,
    0.000000001, 'héllo', 'ab', 'x', '{"a": [1, 2]}', '{"b":1}',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00ff', '2024-02-29', '2024-02-29 13:14:15.123456',
    '2024-02-29 13:14:15+02', '23:59:59.5', '1 day 2 hours', 'sad', '{1,NULL,3}', '{a,b}',
    '{ok,sad}', '{5}', '{1.50,NULL}', '10.0.0.1'
);
INSERT INTO every_type (id) VALUES (2);
"""
EXPECTED_TYPES = {
    "id": pa.int32(),
    "flag": pa.bool_(),
    "small": pa.int16(),
    "big": pa.int64(),
    "real_": pa.float32(),
    "dbl": pa.float64(),
    "price": pa.decimal128(10, 2),
    "huge": pa.decimal256(50, 5),
    "free": pa.string(),
    "name": pa.string(),
    "code": pa.string(),
    "letter": pa.string(),
    "doc": pa.string(),
    "raw": pa.string(),
    "uid": pa.string(),
    "bytes": pa.binary(),
    "day": pa.date32(),
    "at": pa.timestamp("us"),
    "at_tz": pa.timestamp("us", tz="UTC"),
    "clock": pa.time64("us"),
    "span": pa.string(),
    "feeling": pa.string(),
    "counts": pa.list_(pa.int32()),
    "tags": pa.list_(pa.string()),
    "feelings": pa.list_(pa.string()),
    "positives": pa.list_(pa.int32()),
    "prices": pa.list_(pa.decimal128(6, 2)),
    "addr": pa.string(),
}


def test_every_type_family_lands_as_its_arrow_type_and_nulls_stay_null(
    db: psycopg.Connection[Any], dsn: str, tmp_path: Path
) -> None:
    db.execute(TYPES)
    db.execute(VALUES)

    reader = source(dsn, source_table="every_type").read(context(tmp_path))

    assert dict(zip(reader.schema.names, reader.schema.types, strict=True)) == EXPECTED_TYPES
    first, empty = sorted(rows(reader), key=lambda row: row["id"])
    assert first == {
        "id": 1,
        "flag": True,
        "small": -3,
        "big": 9007199254740993,
        "real_": 1.5,
        "dbl": 2.25,
        "price": Decimal("12.34"),
        "huge": Decimal("123456789012345678901234567890.12345"),
        "free": "0.000000001",
        "name": "héllo",
        "code": "ab",
        "letter": "x ",
        "doc": '{"a": [1, 2]}',
        "raw": '{"b":1}',
        "uid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "bytes": b"\x00\xff",
        "day": date(2024, 2, 29),
        "at": datetime(2024, 2, 29, 13, 14, 15, 123456),
        "at_tz": datetime(2024, 2, 29, 11, 14, 15, tzinfo=UTC),
        "clock": time(23, 59, 59, 500000),
        "span": "P1DT2H",
        "feeling": "sad",
        "counts": [1, None, 3],
        "tags": ["a", "b"],
        "feelings": ["ok", "sad"],
        "positives": [5],
        "prices": [Decimal("1.50"), None],
        "addr": "10.0.0.1",
    }
    assert empty == {name: (2 if name == "id" else None) for name in EXPECTED_TYPES}


def test_values_arrow_cannot_hold_become_null_and_are_counted(
    db: psycopg.Connection[Any], dsn: str, tmp_path: Path
) -> None:
    db.execute("CREATE TABLE odd (day date, at timestamptz, amount numeric(8, 2), clock time)")
    db.execute(
        "INSERT INTO odd VALUES ('infinity', '-infinity', 'NaN', '24:00'), "
        "('2024-01-01', '2024-01-01 00:00+00', 1.5, '00:00')"
    )
    ctx = context(tmp_path)

    got = rows(source(dsn, source_table="odd").read(ctx))

    assert got[0] == {"day": None, "at": None, "amount": None, "clock": None}
    assert got[1]["amount"] == Decimal("1.50")
    assert any(note.startswith("4 value(s) with no Arrow equivalent") for note in ctx.notes)


def test_batches_hold_at_most_batch_size_rows_and_share_one_schema(
    db: psycopg.Connection[Any], dsn: str, tmp_path: Path
) -> None:
    db.execute(
        "CREATE TABLE numbers AS SELECT n AS id, n * 1.5 AS half FROM generate_series(1, 25) n"
    )

    reader = source(dsn, source_table="numbers").read(context(tmp_path, batch_size=10))
    batches = list(reader)

    assert [batch.num_rows for batch in batches] == [10, 10, 5]
    assert all(batch.schema == reader.schema for batch in batches)


def test_a_large_table_streams_in_flat_memory(
    db: psycopg.Connection[Any], dsn: str, tmp_path: Path
) -> None:
    db.execute(
        "CREATE TABLE big AS SELECT n::bigint AS id, md5(n::text) AS label, "
        "timestamp '2024-01-01' + n * interval '1 second' AS at FROM generate_series(1, 200000) n"
    )
    reader = source(dsn, source_table="big").read(context(tmp_path, batch_size=5000))

    tracemalloc.start()
    try:
        count = batches = 0
        for batch in reader:  # each batch is dropped before the next is fetched
            count += batch.num_rows
            batches += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (count, batches) == (200_000, 40)
    # Holding every row as Python objects would take about 40 MB; one batch is about 1 MB.
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MB while streaming"


def test_a_query_source_reads_its_select_and_the_chosen_columns(
    db: psycopg.Connection[Any], dsn: str, tmp_path: Path
) -> None:
    db.execute("CREATE TABLE people (id int, name text, city text)")
    db.execute(
        "INSERT INTO people VALUES (1, 'Ann', 'Lyon'), (2, 'Bob', 'Paris'), (3, 'Al', 'Nice')"
    )
    query = "SELECT id, upper(name) AS name, city FROM people WHERE name LIKE 'A%' -- the As\n;"

    reader = source(dsn, query=query, source_columns=["name", "id"]).read(context(tmp_path))

    assert reader.schema.names == ["name", "id"]
    assert sorted(rows(reader), key=lambda r: r["id"]) == [
        {"name": "ANN", "id": 1},
        {"name": "AL", "id": 3},
    ]


def test_cursor_bounds_go_into_the_query_and_rows_outside_are_never_fetched(
    db: psycopg.Connection[Any], dsn: str, tmp_path: Path
) -> None:
    db.execute("CREATE TABLE events (id int, at timestamptz)")
    db.execute(
        "INSERT INTO events SELECT n, timestamptz '2024-01-01 00:00+00' + n * interval '1 hour' "
        "FROM generate_series(1, 48) n"
    )
    db.execute("INSERT INTO events VALUES (0, NULL)")
    ctx = context(tmp_path)
    ctx.cursor = CursorBounds(
        "at",
        lower=datetime(2024, 1, 2, 0, 0),  # naive: UTC, as the engine reads it
        lower_inclusive=False,
        upper=datetime(2024, 1, 2, 5, 0, tzinfo=UTC),
    )

    got = rows(source(dsn, source_table="events").read(ctx))

    assert sorted(row["id"] for row in got) == [25, 26, 27, 28]
    assert "read only rows with at > 2024-01-02 00:00:00+00:00 and at < " in ctx.notes[-1]


def pipeline(write: str = "merge") -> str:
    return f"""
        pipeline: pg_inc
        quality: {{profile: false}}
        sources:
          orders:
            type: postgres
            connection: ${{SHOP_PG}}
            source_table: sales.orders
            write: {write}
            primary_key: [id]
            incremental: {{cursor: updated_at}}
        """


def warehouse(project: Path, sql: str) -> list[tuple[Any, ...]]:
    path = project / ".sluiceway" / "warehouse.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_incremental_runs_load_only_rows_past_the_cursor_and_the_database_filters_them(
    db: psycopg.Connection[Any],
    pg_url: str,
    project: Path,
    *,
    write_pipeline: WritePipeline,
    run_pipeline: RunPipeline,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db.execute(
        "CREATE SCHEMA sales; CREATE TABLE sales.orders "
        "(id int PRIMARY KEY, amount numeric(8, 2), updated_at timestamp)"
    )
    db.execute(
        "INSERT INTO sales.orders VALUES (1, 10, '2024-03-01 08:00'), (2, 20, '2024-03-01 09:00'),"
        " (3, 30, '2024-03-01 10:00')"
    )
    monkeypatch.setenv("SHOP_PG", pg_url)
    path = write_pipeline(pipeline())

    first = run_pipeline(path)
    assert first.status is RunStatus.SUCCEEDED, first.steps[0].error
    assert (first.steps[0].rows_read, first.steps[0].rows_inserted) == (3, 3)

    db.execute(
        "INSERT INTO sales.orders VALUES (4, 40, '2024-03-02 08:00'), (5, 50, '2024-03-02 09:00');"
        "UPDATE sales.orders SET amount = 33, updated_at = '2024-03-02 10:00' WHERE id = 3"
    )
    second = run_pipeline(path)

    step = second.steps[0]
    assert second.status is RunStatus.SUCCEEDED, step.error
    # Only the three rows past the cursor left the database: the bound was in its WHERE.
    assert (step.rows_read, step.rows_inserted, step.rows_updated) == (3, 2, 1)
    assert "read only rows with updated_at > 2024-03-01 10:00:00 (in the query)" in step.notes
    assert not any("behind the cursor skipped" in note for note in step.notes)
    assert warehouse(project, "SELECT id, amount FROM orders ORDER BY id") == [
        (1, Decimal("10.00")),
        (2, Decimal("20.00")),
        (3, Decimal("33.00")),
        (4, Decimal("40.00")),
        (5, Decimal("50.00")),
    ]
    state = warehouse(project, "SELECT value FROM _sluiceway.state WHERE name = 'cursor'")
    assert json.loads(str(state[0][0]))["value"] == "2024-03-02T10:00:00"


def test_primary_and_foreign_keys_come_from_the_catalog(
    db: psycopg.Connection[Any], dsn: str
) -> None:
    db.execute(
        """
        CREATE SCHEMA catalog_;
        CREATE TABLE catalog_.products (sku text, region text, PRIMARY KEY (sku, region));
        CREATE TABLE orders (id int PRIMARY KEY);
        CREATE TABLE order_lines (
            order_id int REFERENCES orders (id),
            line_no int,
            sku text,
            region text,
            PRIMARY KEY (order_id, line_no),
            CONSTRAINT line_product FOREIGN KEY (sku, region)
                REFERENCES catalog_.products (sku, region)
        );
        """
    )

    info = source(dsn, source_table="order_lines").discover()

    assert (info.schema, info.name) == ("public", "order_lines")
    assert info.primary_key == ("order_id", "line_no")
    assert info.column_names == ["order_id", "line_no", "sku", "region"]
    assert info.foreign_keys == (
        ForeignKey("line_product", ("sku", "region"), "catalog_", "products", ("sku", "region")),
        ForeignKey("order_lines_order_id_fkey", ("order_id",), "public", "orders", ("id",)),
    )
    assert str(info.foreign_keys[0]) == "(sku, region) -> catalog_.products(sku, region)"
    assert source(dsn, source_table="catalog_.products").discover().foreign_keys == ()


def test_a_missing_table_lists_the_tables_there_are(
    db: psycopg.Connection[Any], dsn: str, tmp_path: Path
) -> None:
    db.execute("CREATE TABLE customers (id int); CREATE TABLE orders (id int)")

    with pytest.raises(SourceNotFoundError) as caught:
        source(dsn, source_table="ordres").read(context(tmp_path))

    assert "'ordres' does not exist" in caught.value.message
    assert caught.value.hint is not None
    assert "Did you mean public.orders?" in caught.value.hint
    assert "public.customers" in caught.value.hint


def test_a_missing_column_lists_the_columns(
    db: psycopg.Connection[Any], dsn: str, tmp_path: Path
) -> None:
    db.execute("CREATE TABLE customers (id int, name text)")

    with pytest.raises(ConfigError) as caught:
        source(dsn, source_table="customers", source_columns=["id", "nmae"]).read(context(tmp_path))

    assert "'nmae'" in caught.value.message
    assert caught.value.hint == "Columns: id, name."


def test_a_query_naming_a_missing_table_is_not_found_with_the_tables_listed(
    db: psycopg.Connection[Any], dsn: str, tmp_path: Path
) -> None:
    db.execute("CREATE TABLE customers (id int)")

    with pytest.raises(SourceNotFoundError) as caught:
        source(dsn, query="SELECT * FROM custmers").read(context(tmp_path))

    assert 'relation "custmers" does not exist' in str(caught.value)
    assert "public.customers" in str(caught.value)


def test_cancelling_stops_the_read_between_batches(
    db: psycopg.Connection[Any], dsn: str, tmp_path: Path
) -> None:
    db.execute("CREATE TABLE numbers AS SELECT n AS id FROM generate_series(1, 100) n")
    ctx = context(tmp_path, batch_size=10)
    batches = iter(source(dsn, source_table="numbers").read(ctx))
    next(batches)

    ctx.cancel.cancel()

    with pytest.raises(CancelledError):
        next(batches)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_no_password(error: BaseException) -> None:
    assert isinstance(error, SluicewayError)
    for text in (str(error), error_text(error), repr(error.args)):
        assert PASSWORD not in text


def test_a_dead_server_is_transient_and_named_by_host_and_port(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgresql://loader:{PASSWORD}@127.0.0.1:{port}/shop"

    with pytest.raises(SourceUnavailableError) as caught:
        source(url, source_table="orders").read(context(tmp_path))

    assert f"127.0.0.1:{port}/shop" in caught.value.message
    assert caught.value.error_class.value == "transient"
    assert_no_password(caught.value)


@pytest.mark.parametrize(
    ("where", "kind"),
    [
        ("nobody:{pw}@127.0.0.1:5432/postgres", ConfigError),  # no such role
        ("postgres:{pw}@127.0.0.1:5432/no_such_db_{pw}", ConfigError),
        ("postgres:%zz{pw}@127.0.0.1:5432/postgres", ConfigError),  # libpq would quote it
    ],
)
def test_a_refused_connection_never_shows_the_password(
    where: str, kind: type[SluicewayError], pg_url: str, tmp_path: Path
) -> None:
    url = "postgresql://" + where.format(pw=PASSWORD)
    spec = PostgresSpec.model_construct(  # skip validation: the driver must hold the line too
        type="postgres", connection=SecretStr(url), source_table="t", source_columns=[]
    )

    with pytest.raises(kind) as caught:
        PostgresSource(spec).read(context(tmp_path))

    assert_no_password(caught.value)


def test_a_wrong_password_never_shows_through_the_runner(
    pg_url: str,
    write_pipeline: WritePipeline,
    run_pipeline: RunPipeline,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The shared server trusts local connections, so a wrong password alone is accepted:
    # a role that does not exist makes the server refuse it.
    monkeypatch.setenv("SHOP_PG", f"postgresql://ghost:{PASSWORD}@127.0.0.1:5432/postgres")
    result = run_pipeline(write_pipeline(pipeline("append")))

    error = result.steps[0].error
    assert result.status is RunStatus.FAILED
    assert error is not None
    assert "127.0.0.1:5432/postgres" in str(error)
    assert_no_password(error)
    assert PASSWORD not in json.dumps(result.as_dict(), default=str)
