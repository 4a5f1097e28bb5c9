"""PostgreSQL against the warehouse contract, plus what only a server can get wrong: pooled
connections, a connection killed mid-COPY, secrets in error messages, index rebuilds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pydantic import SecretStr

from sluiceway.core.errors import ConfigError, DataError, PipelineLockedError, WarehouseError
from sluiceway.core.ids import new_id
from sluiceway.core.names import TableRef
from sluiceway.spec.write import RangePartitionSpec
from sluiceway.warehouses.base import LoadRequest, Warehouse, WarehouseContext
from sluiceway.warehouses.bookkeeping import LATEST_VERSION
from sluiceway.warehouses.postgres import PostgresSpec, PostgresWarehouse
from tests.contract.warehouse_contract import WarehouseContract, reader_of

pytestmark = pytest.mark.integration


def make(url: str, tmp_path: Path, **options: Any) -> PostgresWarehouse:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    spec = PostgresSpec(type="postgres", connection=SecretStr(dsn), **options)
    return PostgresWarehouse(spec, WarehouseContext(tmp_path, lambda p: tmp_path / p))


class TestPostgresContract(WarehouseContract):
    @pytest.fixture
    def warehouse(self, pg_url: str, tmp_path: Path) -> Iterator[Warehouse[Any]]:
        warehouse = make(pg_url, tmp_path)
        warehouse.open()
        yield warehouse
        warehouse.close()


def _request(table: str, **options: Any) -> LoadRequest:
    return LoadRequest(
        load_id=new_id(),
        run_id="run-1",
        pipeline="pg",
        source="src",
        table=TableRef.parse(table),
        write=options.pop("write", "append"),
        lineage=False,
        **options,
    )


def _load(warehouse: Warehouse[Any], table: str, rows: list[dict[str, Any]], **options: Any) -> Any:
    with warehouse.begin(_request(table, **options)) as load:
        load.stage(reader_of(rows))
        return load.commit([])


def _broken_load(warehouse: Warehouse[Any], request: LoadRequest, rows: list[Any]) -> None:
    """Stage ``rows``, then fail before commit."""
    with warehouse.begin(request) as load:
        load.stage(reader_of(rows))
        raise RuntimeError("broke before commit")


@pytest.fixture
def pg(pg_url: str, tmp_path: Path) -> Iterator[PostgresWarehouse]:
    warehouse = make(pg_url, tmp_path)
    warehouse.open()
    yield warehouse
    warehouse.close()


def _partitions(warehouse: PostgresWarehouse, table: str) -> dict[str, int]:
    """Rows per partition of ``public.<table>``, every partition listed."""
    names = warehouse.query(
        "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass",
        [table],
    ).column("name")
    counts = {str(n): 0 for n in names.to_pylist()}
    for row in warehouse.query(
        f"SELECT tableoid::regclass::text AS part, count(*) AS n FROM {table} GROUP BY 1"
    ).to_pylist():
        counts[str(row["part"])] = int(row["n"])
    return counts


def test_partition_by_month_creates_partitions_as_rows_arrive(pg: PostgresWarehouse) -> None:
    by_month = RangePartitionSpec(column="at", granularity="month")
    rows: list[dict[str, Any]] = [
        {"id": 1, "at": datetime(2024, 1, 31, 23, 59, tzinfo=UTC)},
        {"id": 2, "at": datetime(2024, 2, 1, tzinfo=UTC)},
        {"id": 3, "at": datetime(2024, 3, 15, tzinfo=UTC)},
        {"id": 4, "at": None},
    ]
    _load(pg, "orders", rows, partition_by=by_month)
    assert _partitions(pg, "orders") == {
        "orders_default": 1,
        "orders_p2024_01": 1,
        "orders_p2024_02": 1,
        "orders_p2024_03": 1,
    }
    # A merge later: a new month gets its partition; a rolled-back load leaves none behind.
    late = [{"id": 9, "at": datetime(2025, 1, 1, tzinfo=UTC)}]
    with pytest.raises(RuntimeError):
        _broken_load(pg, _request("orders", partition_by=by_month), late)
    merged = [{"id": 3, "at": datetime(2024, 4, 2, tzinfo=UTC)}]
    _load(pg, "orders", merged, write="merge", primary_key=("id",), partition_by=by_month)
    assert _partitions(pg, "orders") == {
        "orders_default": 1,
        "orders_p2024_01": 1,
        "orders_p2024_02": 1,
        "orders_p2024_03": 0,
        "orders_p2024_04": 1,
    }


def test_partition_by_a_text_column_is_refused(pg: PostgresWarehouse) -> None:
    with pytest.raises(ConfigError, match="date or timestamp"):
        _load(pg, "t", [{"id": 1, "s": "x"}], partition_by=RangePartitionSpec(column="s"))
    assert pg.table_schema(TableRef("t")) is None


def test_duckdb_refuses_partition_by(tmp_path: Path) -> None:
    from sluiceway.warehouses.duckdb.warehouse import DuckDBSpec, DuckDBWarehouse

    duck = DuckDBWarehouse(
        DuckDBSpec(type="duckdb", path=":memory:"),
        WarehouseContext(tmp_path, lambda p: tmp_path / p),
    )
    duck.open()
    with pytest.raises(ConfigError, match="partitions tables"):
        duck.begin(_request("t", partition_by=RangePartitionSpec(column="at")))
    duck.close()


def _indexes(warehouse: PostgresWarehouse, table: str) -> list[str]:
    return sorted(
        str(v)
        for v in warehouse.query("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
        .column("indexdef")
        .to_pylist()
    )


def test_rebuild_drops_secondary_indexes_and_restores_them_before_commit(
    pg_url: str, tmp_path: Path
) -> None:
    warehouse = make(pg_url, tmp_path, index_strategy="rebuild")
    warehouse.open()
    try:
        _load(warehouse, "facts", [{"id": i, "k": i % 3, "v": f"v{i}"} for i in range(10)])
        for ddl in (
            "CREATE UNIQUE INDEX facts_id ON facts (id)",
            "CREATE INDEX facts_k ON facts (k)",
            "CREATE INDEX facts_kv ON facts (k, v)",
        ):
            warehouse.query(ddl)
        before = _indexes(warehouse, "facts")
        result = _load(warehouse, "facts", [{"id": 100 + i, "k": 1, "v": "x"} for i in range(5)])
        assert _indexes(warehouse, "facts") == before
        rebuilt = sorted(n.split(":")[0] for n in result.notes)
        assert rebuilt == ["index facts_k", "index facts_kv"]  # the unique index stays
        assert all("rebuilt in" in n for n in result.notes)
        with pytest.raises(RuntimeError):
            _broken_load(warehouse, _request("facts"), [{"id": 999, "k": 2, "v": "y"}])
        assert _indexes(warehouse, "facts") == before
        assert warehouse.query("SELECT count(*) AS n FROM facts").to_pylist() == [{"n": 15}]
        # A merge rewrites rows as well: the same drop and rebuild, the same indexes after.
        merged = _load(
            warehouse, "facts", [{"id": 1, "k": 2, "v": "z"}], write="merge", primary_key=("id",)
        )
        assert sorted(n.split(":")[0] for n in merged.notes) == rebuilt
        assert _indexes(warehouse, "facts") == before
        assert warehouse.query("SELECT v FROM facts WHERE id = 1").to_pylist() == [{"v": "z"}]
    finally:
        warehouse.close()


def test_statement_timeout_is_a_clear_error(pg_url: str, tmp_path: Path) -> None:
    warehouse = make(pg_url, tmp_path, statement_timeout="200ms")
    warehouse.open()
    try:
        with pytest.raises(WarehouseError, match="statement_timeout"):
            warehouse.query("SELECT pg_sleep(2)")
    finally:
        warehouse.close()


def test_the_pool_replaces_connections_the_server_killed(pg: PostgresWarehouse) -> None:
    _load(pg, "t", [{"id": 1}])
    with pg.connections.connection() as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    assert pg.query("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 1}]
    _load(pg, "t", [{"id": 2}])
    assert pg.query("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 2}]


def test_bookkeeping_is_created_once_and_versioned(pg_url: str, tmp_path: Path) -> None:
    for _ in range(2):
        with make(pg_url, tmp_path) as warehouse:
            warehouse.open()
            versions = warehouse.query(
                "SELECT version FROM _sluiceway.migrations ORDER BY version"
            ).to_pylist()
            assert versions == [{"version": v} for v in range(1, LATEST_VERSION + 1)]


def test_explain_returns_the_plan_and_analyze_leaves_no_write(pg: PostgresWarehouse) -> None:
    _load(pg, "t", [{"id": 1}, {"id": 2}])
    plan = pg.explain("SELECT * FROM t WHERE id = 1")
    assert plan[0]["Plan"]["Node Type"] == "Seq Scan"
    analyzed = pg.explain("DELETE FROM t", analyze=True)
    (scan,) = analyzed[0]["Plan"]["Plans"]
    assert scan["Actual Rows"] == 2
    assert "Shared Hit Blocks" in scan
    assert pg.query("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 2}]


def test_a_pipeline_runs_on_one_machine_at_a_time(pg_url: str, tmp_path: Path) -> None:
    first, second = make(pg_url, tmp_path), make(pg_url, tmp_path)
    first.open()
    second.open()
    try:
        with first.run_lock("orders", run_id="run-a"):
            with pytest.raises(PipelineLockedError, match="another process"):
                second.run_lock("orders", run_id="run-b").__enter__()
            with second.run_lock("customers", run_id="run-c"):
                pass  # another pipeline is not held up
        with second.run_lock("orders", run_id="run-b"):
            pass  # released when the first run ended
    finally:
        first.close()
        second.close()


def test_a_load_is_one_transaction_even_on_the_readers_pooled_connection(
    pg_url: str, tmp_path: Path
) -> None:
    # A pool of one: the autocommit connection sql_runner() used goes back to the pool and the
    # next load gets it; the load must still be all or nothing.
    warehouse = make(pg_url, tmp_path, pool={"min_size": 1, "max_size": 1})
    warehouse.open()
    try:
        _load(warehouse, "t", [{"id": 1}])
        warehouse.read_state("pg", "src")  # takes the reader connection (autocommit)
        warehouse.connections.give_back(warehouse._reader)
        warehouse._reader = None
        with pytest.raises(RuntimeError):
            _broken_load(warehouse, _request("t"), [{"id": 2}, {"id": 3}])
        assert warehouse.query("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 1}]
    finally:
        warehouse.close()


def test_an_unconstrained_numeric_result_is_a_decimal_wide_enough_for_its_values(
    pg: PostgresWarehouse,
) -> None:
    # sum() of a NUMERIC(10,2) has no declared precision: DuckDB calls it DECIMAL(38,2)
    result = pg.query(
        "SELECT sum(x) AS total, max(x) * 1.005 AS scaled, "
        "'1e40'::numeric AS huge, 'NaN'::numeric AS nan "
        "FROM (VALUES (1.50::numeric(10,2)), (2.25::numeric(10,2))) AS t(x)"
    )

    assert result.schema.field("total").type == pa.decimal128(38, 2)
    assert result.schema.field("scaled").type == pa.decimal128(38, 5)
    assert result.column("total").to_pylist() == [Decimal("3.75")]
    assert result.column("scaled").to_pylist() == [Decimal("2.26125")]
    # beyond 38 digits, or not a number: exact text, as before
    assert result.schema.field("huge").type == pa.string()
    assert result.schema.field("nan").type == pa.string()
    assert result.column("nan").to_pylist() == ["NaN"]


def test_stream_reads_batches_from_a_server_side_cursor_holding_no_lock(
    pg: PostgresWarehouse,
) -> None:
    pg.execute(
        [
            "CREATE TABLE public.streamed (id int, amount numeric(10,2))",
            "INSERT INTO public.streamed SELECT g, g * 1.25 FROM generate_series(1, 5) AS g",
        ]
    )

    reader = pg.stream(
        "SELECT id, sum(amount) AS total FROM public.streamed GROUP BY id ORDER BY id",
        batch_size=2,
    )
    first = reader.read_next_batch()
    # the result is held by the server since the declaring commit: DDL on the table read
    # does not wait for the stream (it would hang here if the stream held its lock)
    pg.execute(["ALTER TABLE public.streamed ADD COLUMN note text"])
    rest = list(reader)

    assert [first.num_rows, *(b.num_rows for b in rest)] == [2, 2, 1]
    assert reader.schema.field("total").type == pa.decimal128(38, 2)
    table = pa.Table.from_batches([first, *rest])
    assert table.column("total").to_pylist() == [Decimal("1.25") * i for i in range(1, 6)]


def test_a_streamed_value_that_does_not_fit_the_first_batches_type_is_an_error(
    pg: PostgresWarehouse,
) -> None:
    reader = pg.stream(
        "SELECT x FROM (VALUES (1.5::numeric), (2.25::numeric)) AS t(x) ORDER BY x",
        batch_size=1,
    )

    assert reader.schema.field("x").type == pa.decimal128(38, 1)
    with pytest.raises(DataError, match=r"column 'x': a value does not fit decimal128\(38, 1\)"):
        list(reader)
