"""The ``mysql`` source against the real MariaDB: every type family, bounded batches, flat memory,
queries, incremental reads through the runner (the bound in the SQL), keys from the catalog
(across databases), and errors that name the server but never the password."""

from __future__ import annotations

import json
import socket
import tracemalloc
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

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
from sluiceway.sources.sql import ForeignKey, MySqlSource, MySqlSpec
from tests.conftest import RunPipeline, WritePipeline
from tests.integration.mysql_fixtures import (  # noqa: F401 - fixtures
    MySqlDatabase,
    mysql_db_fixture,
    mysql_server_fixture,
)
from tests.source_context import read_context

pytestmark = pytest.mark.integration

PASSWORD = "pw-Zq81xK"  # a made-up password that must never be printed


def source(url: str, **fields: Any) -> MySqlSource:
    return MySqlSource(MySqlSpec.model_validate({"type": "mysql", "connection": url, **fields}))


def context(tmp_path: Path, *, batch_size: int = 1000) -> ReadContext:
    return read_context(tmp_path, batch_size=batch_size)


def rows(reader: pa.RecordBatchReader) -> list[dict[str, Any]]:
    return sorted(reader.read_all().to_pylist(), key=lambda row: row["id"])


TYPES = """
CREATE TABLE every_type (
    id int PRIMARY KEY, flag tinyint(1), tiny tinyint, tiny_u tinyint unsigned,
    small smallint, medium mediumint, regular int, regular_u int unsigned, big bigint,
    big_u bigint unsigned, price decimal(10, 2), wide decimal(65, 30), ratio float,
    dbl double, day date, at datetime(6), at_utc timestamp(3) NULL, clock time, yr year,
    bit1 bit(1), bits bit(9), name varchar(20), letter char(2), body text, blob_ blob,
    vbin varbinary(8), doc json, choice enum('a', 'b'), choices set('x', 'y'), uid uuid,
    shape geometry
)
"""
VALUES = """
INSERT INTO every_type VALUES (
    1, 1, -5, 250, -300, 70000, -7, 4000000000, 9007199254740993, 18446744073709551615,
    12.34, 1.5, 1.25, 2.5, '2024-02-29', '2024-02-29 13:14:15.123456',
    '2024-02-29 13:14:15.123', '23:59:59', 2024, b'1', b'100000001', 'héllo', 'ab', 'long text',
    x'00ff', x'01', '{"a": [1, 2]}', 'b', 'x,y', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    ST_GeomFromText('POINT(1 1)')
)
"""
EXPECTED_TYPES = {
    "id": pa.int32(),
    "flag": pa.bool_(),
    "tiny": pa.int8(),
    "tiny_u": pa.uint8(),
    "small": pa.int16(),
    "medium": pa.int32(),
    "regular": pa.int32(),
    "regular_u": pa.uint32(),
    "big": pa.int64(),
    "big_u": pa.uint64(),
    "price": pa.decimal128(10, 2),
    "wide": pa.decimal256(65, 30),
    "ratio": pa.float32(),
    "dbl": pa.float64(),
    "day": pa.date32(),
    "at": pa.timestamp("us"),
    "at_utc": pa.timestamp("us", tz="UTC"),
    "clock": pa.time64("us"),
    "yr": pa.int16(),
    "bit1": pa.bool_(),
    "bits": pa.int64(),
    "name": pa.string(),
    "letter": pa.string(),
    "body": pa.string(),
    "blob_": pa.binary(),
    "vbin": pa.binary(),
    "doc": pa.string(),
    "choice": pa.string(),
    "choices": pa.string(),
    "uid": pa.string(),
    "shape": pa.binary(),
}


def test_every_type_family_lands_as_its_arrow_type_and_nulls_stay_null(
    mysql_db: MySqlDatabase, tmp_path: Path
) -> None:
    # The row is written at +02:00: a timestamp reads back in UTC.
    mysql_db.execute(
        TYPES, "SET time_zone = '+02:00'", VALUES, "INSERT INTO every_type (id) VALUES (2)"
    )

    reader = source(mysql_db.url, source_table="every_type").read(context(tmp_path))

    assert dict(zip(reader.schema.names, reader.schema.types, strict=True)) == EXPECTED_TYPES
    first, empty = rows(reader)
    shape = first.pop("shape")
    assert isinstance(shape, bytes)
    assert len(shape) == 25  # SRID + WKB point
    assert first == {
        "id": 1,
        "flag": True,
        "tiny": -5,
        "tiny_u": 250,
        "small": -300,
        "medium": 70000,
        "regular": -7,
        "regular_u": 4000000000,
        "big": 9007199254740993,
        "big_u": 18446744073709551615,
        "price": Decimal("12.34"),
        "wide": Decimal("1.5"),
        "ratio": 1.25,
        "dbl": 2.5,
        "day": date(2024, 2, 29),
        "at": datetime(2024, 2, 29, 13, 14, 15, 123456),
        "at_utc": datetime(2024, 2, 29, 11, 14, 15, 123000, tzinfo=UTC),
        "clock": time(23, 59, 59),
        "yr": 2024,
        "bit1": True,
        "bits": 257,
        "name": "héllo",
        "letter": "ab",
        "body": "long text",
        "blob_": b"\x00\xff",
        "vbin": b"\x01",
        "doc": '{"a": [1, 2]}',
        "choice": "b",
        "choices": "x,y",
        "uid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    }
    assert empty == {name: (2 if name == "id" else None) for name in EXPECTED_TYPES}


def test_zero_dates_and_times_outside_a_day_become_null_and_are_counted(
    mysql_db: MySqlDatabase, tmp_path: Path
) -> None:
    mysql_db.execute(
        "CREATE TABLE odd (id int, day date, at datetime, clock time)",
        "SET sql_mode = ''",  # this session only: let it write zero dates
        "INSERT INTO odd VALUES (1, '0000-00-00', '0000-00-00 00:00:00', '-01:00:00'), "
        "(2, '2024-01-01', '2024-01-01 10:00:00', '100:00:00'), (3, NULL, NULL, '00:00:01')",
    )
    ctx = context(tmp_path)

    got = rows(source(mysql_db.url, source_table="odd").read(ctx))

    assert got == [
        {"id": 1, "day": None, "at": None, "clock": None},
        {"id": 2, "day": date(2024, 1, 1), "at": datetime(2024, 1, 1, 10), "clock": None},
        {"id": 3, "day": None, "at": None, "clock": time(0, 0, 1)},
    ]
    assert any(note.startswith("4 value(s) with no Arrow equivalent") for note in ctx.notes)


def test_batches_hold_at_most_batch_size_rows_and_share_one_schema(
    mysql_db: MySqlDatabase, tmp_path: Path
) -> None:
    mysql_db.execute(
        "CREATE TABLE numbers (id int PRIMARY KEY, half decimal(6, 1))",
        "INSERT INTO numbers SELECT seq, seq * 1.5 FROM seq_1_to_25",
    )

    reader = source(mysql_db.url, source_table="numbers").read(context(tmp_path, batch_size=10))
    batches = list(reader)

    assert [batch.num_rows for batch in batches] == [10, 10, 5]
    assert all(batch.schema == reader.schema for batch in batches)


def test_a_large_table_streams_in_flat_memory(mysql_db: MySqlDatabase, tmp_path: Path) -> None:
    mysql_db.execute(
        "CREATE TABLE big (id bigint PRIMARY KEY, label char(32), at datetime)",
        "INSERT INTO big SELECT seq, md5(seq), '2024-01-01' + INTERVAL seq SECOND "
        "FROM seq_1_to_200000",
    )
    reader = source(mysql_db.url, source_table="big").read(context(tmp_path, batch_size=5000))

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
    # Holding every row as Python objects would take about 50 MB; one batch is about 1 MB.
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MB while streaming"


def test_a_query_source_reads_its_select_and_the_chosen_columns(
    mysql_db: MySqlDatabase, tmp_path: Path
) -> None:
    mysql_db.execute(
        "CREATE TABLE people (id int, name text, city text)",
        "INSERT INTO people VALUES (1, 'Ann', 'Lyon'), (2, 'Bob', 'Paris'), (3, 'Al', 'Nice')",
    )
    query = "SELECT id, upper(name) AS name, city FROM people WHERE name LIKE 'A%' -- the As\n;"

    reader = source(mysql_db.url, query=query, source_columns=["name", "id"]).read(
        context(tmp_path)
    )

    assert reader.schema.names == ["name", "id"]
    assert rows(reader) == [{"name": "ANN", "id": 1}, {"name": "AL", "id": 3}]


def test_cursor_bounds_go_into_the_query_and_rows_outside_are_never_fetched(
    mysql_db: MySqlDatabase, tmp_path: Path
) -> None:
    mysql_db.execute(
        "CREATE TABLE events (id int, at timestamp NULL)",
        "SET time_zone = '+00:00'",
        "INSERT INTO events SELECT seq, '2024-01-01' + INTERVAL seq HOUR FROM seq_1_to_48",
        "INSERT INTO events VALUES (0, NULL)",
    )
    ctx = context(tmp_path)
    ctx.cursor = CursorBounds(
        "at",
        lower=datetime(2024, 1, 2, 0, 0),  # naive: UTC, as the engine reads it
        lower_inclusive=False,
        upper=datetime(2024, 1, 2, 9, 0, tzinfo=timezone(timedelta(hours=2))),  # 07:00 UTC
    )

    got = rows(source(mysql_db.url, source_table="events").read(ctx))

    assert [row["id"] for row in got] == [25, 26, 27, 28, 29, 30]
    assert "read only rows with at > 2024-01-02 00:00:00+00:00 and at < " in ctx.notes[-1]


def pipeline(write: str = "merge") -> str:
    return f"""
        pipeline: my_inc
        quality: {{profile: false}}
        sources:
          orders:
            type: mysql
            connection: ${{SHOP_MYSQL}}
            source_table: orders
            write: {write}
            primary_key: [id]
            incremental: {{cursor: updated_at}}
        """


def warehouse(project: Path, sql: str) -> list[tuple[Any, ...]]:
    path = project / ".sluiceway" / "warehouse.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_incremental_runs_load_only_rows_past_the_cursor_and_the_database_filters_them(
    mysql_db: MySqlDatabase,
    project: Path,
    write_pipeline: WritePipeline,
    run_pipeline: RunPipeline,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mysql_db.execute(
        "CREATE TABLE orders (id int PRIMARY KEY, amount decimal(8, 2), updated_at datetime)",
        "INSERT INTO orders VALUES (1, 10, '2024-03-01 08:00'), (2, 20, '2024-03-01 09:00'), "
        "(3, 30, '2024-03-01 10:00')",
    )
    monkeypatch.setenv("SHOP_MYSQL", mysql_db.url)
    path = write_pipeline(pipeline())

    first = run_pipeline(path)
    assert first.status is RunStatus.SUCCEEDED, first.steps[0].error
    assert (first.steps[0].rows_read, first.steps[0].rows_inserted) == (3, 3)

    mysql_db.execute(
        "INSERT INTO orders VALUES (4, 40, '2024-03-02 08:00'), (5, 50, '2024-03-02 09:00')",
        "UPDATE orders SET amount = 33, updated_at = '2024-03-02 10:00' WHERE id = 3",
    )
    second = run_pipeline(path)

    step = second.steps[0]
    assert second.status is RunStatus.SUCCEEDED, step.error
    # Only the three rows past the cursor left the database: the bound was in its WHERE.
    assert (step.rows_read, step.rows_inserted, step.rows_updated) == (3, 2, 1)
    assert "read only rows with updated_at > 2024-03-01 10:00:00 (in the query)" in step.notes
    assert warehouse(project, "SELECT id, amount FROM orders ORDER BY id") == [
        (1, Decimal("10.00")),
        (2, Decimal("20.00")),
        (3, Decimal("33.00")),
        (4, Decimal("40.00")),
        (5, Decimal("50.00")),
    ]
    state = warehouse(project, "SELECT value FROM _sluiceway.state WHERE name = 'cursor'")
    assert json.loads(str(state[0][0]))["value"] == "2024-03-02T10:00:00"


def test_primary_and_foreign_keys_come_from_the_catalog(mysql_db: MySqlDatabase) -> None:
    catalog = mysql_db.other_database()
    mysql_db.execute(
        "CREATE TABLE products (sku varchar(8), region char(2), PRIMARY KEY (sku, region))",
        database=catalog,
    )
    mysql_db.execute(
        "CREATE TABLE orders (id int PRIMARY KEY)",
        f"""
        CREATE TABLE order_lines (
            order_id int,
            line_no int,
            sku varchar(8),
            region char(2),
            PRIMARY KEY (order_id, line_no),
            CONSTRAINT line_order FOREIGN KEY (order_id) REFERENCES orders (id),
            CONSTRAINT line_product FOREIGN KEY (sku, region)
                REFERENCES `{catalog}`.products (sku, region)
        )
        """,
    )

    info = source(mysql_db.url, source_table="order_lines").discover()

    assert (info.schema, info.name) == (mysql_db.name, "order_lines")
    assert info.primary_key == ("order_id", "line_no")
    assert info.column_names == ["order_id", "line_no", "sku", "region"]
    assert info.foreign_keys == (
        ForeignKey("line_order", ("order_id",), mysql_db.name, "orders", ("id",)),
        ForeignKey("line_product", ("sku", "region"), catalog, "products", ("sku", "region")),
    )
    products = source(mysql_db.url, source_table=f"{catalog}.products").discover()
    assert (products.primary_key, products.foreign_keys) == (("sku", "region"), ())


def test_a_missing_table_lists_the_tables_there_are(
    mysql_db: MySqlDatabase, tmp_path: Path
) -> None:
    mysql_db.execute("CREATE TABLE customers (id int)", "CREATE TABLE orders (id int)")

    with pytest.raises(SourceNotFoundError) as caught:
        source(mysql_db.url, source_table="ordres").read(context(tmp_path))

    assert "'ordres' does not exist" in caught.value.message
    assert caught.value.hint is not None
    assert f"Did you mean {mysql_db.name}.orders?" in caught.value.hint
    assert f"{mysql_db.name}.customers" in caught.value.hint


def test_a_missing_column_lists_the_columns(mysql_db: MySqlDatabase, tmp_path: Path) -> None:
    mysql_db.execute("CREATE TABLE customers (id int, name text)")

    with pytest.raises(ConfigError) as caught:
        source(mysql_db.url, source_table="customers", source_columns=["id", "nmae"]).read(
            context(tmp_path)
        )

    assert "'nmae'" in caught.value.message
    assert caught.value.hint == "Columns: id, name."


def test_a_query_naming_a_missing_table_is_not_found(
    mysql_db: MySqlDatabase, tmp_path: Path
) -> None:
    mysql_db.execute("CREATE TABLE customers (id int)")

    with pytest.raises(SourceNotFoundError) as caught:
        source(mysql_db.url, query="SELECT * FROM custmers").read(context(tmp_path))

    assert "custmers' doesn't exist" in str(caught.value)
    assert f"{mysql_db.name}.customers" in str(caught.value)


def test_cancelling_stops_the_read_between_batches(mysql_db: MySqlDatabase, tmp_path: Path) -> None:
    mysql_db.execute(
        "CREATE TABLE numbers (id int)", "INSERT INTO numbers SELECT seq FROM seq_1_to_100"
    )
    ctx = context(tmp_path, batch_size=10)
    batches = iter(source(mysql_db.url, source_table="numbers").read(ctx))
    next(batches)

    ctx.cancel.cancel()

    with pytest.raises(CancelledError):
        next(batches)


def assert_no_password(error: BaseException) -> None:
    assert isinstance(error, SluicewayError)
    for text in (str(error), error_text(error), repr(error.args)):
        assert PASSWORD not in text


def test_a_dead_server_is_transient_and_named_by_host_and_port(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    url = f"mysql://loader:{PASSWORD}@127.0.0.1:{port}/shop"

    with pytest.raises(SourceUnavailableError) as caught:
        source(url, source_table="orders").read(context(tmp_path))

    assert f"127.0.0.1:{port}/shop" in caught.value.message
    assert caught.value.error_class.value == "transient"
    assert_no_password(caught.value)


def test_a_wrong_password_is_refused_and_never_shown(
    mysql_db: MySqlDatabase, tmp_path: Path
) -> None:
    url = f"mysql://root:{PASSWORD}@127.0.0.1:3306/{mysql_db.name}"

    with pytest.raises(ConfigError) as caught:
        source(url, source_table="orders").read(context(tmp_path))

    assert "Access denied for user 'root'" in caught.value.message
    assert f"127.0.0.1:3306/{mysql_db.name}" in caught.value.message
    assert_no_password(caught.value)


def test_a_wrong_password_never_shows_through_the_runner(
    mysql_db: MySqlDatabase,
    write_pipeline: WritePipeline,
    run_pipeline: RunPipeline,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOP_MYSQL", f"mysql://root:{PASSWORD}@127.0.0.1:3306/{mysql_db.name}")

    result = run_pipeline(write_pipeline(pipeline("append")))

    error = result.steps[0].error
    assert result.status is RunStatus.FAILED
    assert error is not None
    assert_no_password(error)
    assert PASSWORD not in json.dumps(result.as_dict(), default=str)
