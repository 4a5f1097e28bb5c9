"""Models benchmark: one gold model over 2M orders, materialized as a table, many ways.

The data (a fixed seed, generated with numpy and pyarrow, loaded once with raw DuckDB, not
timed): ``bronze.orders`` (order_id BIGINT, customer_id INTEGER, amount DECIMAL(10,2), status
VARCHAR of four values, 60% ``paid``, order_ts TIMESTAMP), N rows, and ``bronze.customers``
(customer_id, region of eight, signup_date), N/10 rows. The model: per customer, over the paid
orders, the order count, revenue, average amount, first and last order; joined to the
customer's region; ranked within the region by revenue (``row_number()``, ties broken by
customer id). About N/10 rows come out: a group-by of N rows, a join and a partitioned window.

DuckDB contenders, each in a warehouse file of its own (a copy of the loaded one; Sluiceway's
bookkeeping tables already created in it, as in any warehouse in use):

- duckdb_ctas:     THE LIMIT: raw DuckDB, ``CREATE OR REPLACE TABLE … AS`` the model's SQL
                   (connect, run, close: the close checkpoints, as the warehouse's does);
- sql_model:       a ``.sql`` model, ``materialized: table``, run by ``PipelineRunner`` in
                   process as ``sluiceway run`` builds it (the metadata store, run records,
                   lineage, schema registry and quality log subscribed): the SELECT streams out
                   of DuckDB as Arrow batches and back in through the load path (contract,
                   profile, one transaction, load record; with the profile on, the rows go
                   through a staging table first). The pipeline has no sources;
- sql_model_noprofile: the same with ``quality: {profile: false}``: what the profile costs;
- ops_model:       the same model as a ``.yaml`` chain (filter, aggregate, join, window);
- py_duckdb:       a Python transform, ``format="duckdb"``: relations over the warehouse
                   (filter, aggregate, join, a windowed projection), returned lazily;
- py_arrow:        a Python transform, ``format="arrow"``: both inputs arrive as Arrow tables,
                   pyarrow compute (``group_by``, ``join``, ``sort_by``; the rank with numpy);
- pandas:          read both tables whole into DataFrames (``.df()``), filter, ``groupby``,
                   ``merge``, ``sort_values`` + ``cumcount``, written back with duckdb's
                   ``register`` + ``CREATE OR REPLACE TABLE``;
- polars:          the same with Polars (tables read as Arrow, a lazy query, written back
                   through Arrow).

dlt is not a contender: its in-warehouse transformations are ``dlt.hub.transformation`` (the
commercial ``dlthub`` plugin) or a dbt package (``dlt.dbt``; dbt is not installed); what is left
is raw SQL through ``pipeline.sql_client()`` (the limit itself) or reading into pandas and
loading back through extract/normalize/load (the pandas peer plus dlt's load path, which
``postgres_load.py`` and ``incremental.py`` measure).

PostgreSQL contenders (the server at ``--url``; a throwaway database, the same tables loaded
with COPY, primary keys, ``VACUUM ANALYZE``, then dropped at the end; skipped with the reason
when the server is unreachable, a failure with ``--require-postgres``):

- pg_ctas:         THE LIMIT: ``CREATE TABLE … AS`` the same SQL on the server (dropped and
                   created in one transaction; connect included);
- pg_sql_model:    the ``.sql`` model on a ``postgres`` warehouse: the rows leave the server
                   through a cursor, become Arrow, and come back by binary COPY;
- pg_sql_model_noprofile: the same without the profile.

Every contender builds its table once untimed (warm-up: a scheduled model replaces its table),
then once timed; each run is a process of its own (imports and the first build not timed).
``--repeat`` rounds run every contender once each, in turn; the median wall time counts. Beside
it: the process's CPU time (every thread; on PostgreSQL the server's is not counted) and, for
Sluiceway, the model step's own duration. Every contender's table is then compared row by row
with the reference (the limit's SQL run once over the loaded data): the same customers, the
same counts, timestamps, regions and ranks, revenue to the cent, the average to 1e-9 relative;
the columns in the same order (``_sluiceway_*`` bookkeeping aside). A wrong or failed contender
fails the benchmark (exit 1).

Targets (``x limit`` is the limit's seconds over the contender's: rows/s as a share):
- models_sql_vs_ctas >= 0.5: the model is the same SELECT; what Sluiceway adds (the rows as
  Arrow out and back, the contract, the profile of N/10 rows, the bookkeeping, the run and
  lineage records) may cost as much as the query itself, not more;
- models_ops_vs_sql <= 1.15 (time): a chain compiles to one SELECT the planner sees whole; only
  reading the input's columns and compiling may add;
- models_py_duckdb_vs_ctas >= 0.5: a relation is a lazy query over the warehouse, the same work
  as the SQL model's;
- models_sql_vs_pandas > 1 (pandas' time over the model's): the model beats the usual Python
  way of building the same table;
- models_postgres_vs_ctas >= 0.5: the design (a server-side cursor out, binary COPY back) moves
  N/10 rows twice over a local socket, about as much as the aggregation over N rows costs the
  server; a miss measures how far the round trip is from an in-server ``INSERT … SELECT``.

    python bench/models.py [--rows 2000000] [--repeat 3] [--require-postgres] [--only NAME ...]
                           [--url postgresql://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

DEFAULT_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
SEED = 20_240_917
STATUSES = ["paid", "pending", "refunded", "cancelled"]
STATUS_SHARES = [0.6, 0.2, 0.1, 0.1]
REGIONS = ["north", "south", "east", "west", "central", "coast", "mountain", "islands"]
TABLE = "gold.customer_value"
TEMPLATE = "template.duckdb"  # in the work folder: the loaded warehouse every run copies
EXPECTED = "expected.parquet"  # in the work folder: the reference result
WAREHOUSE = "warehouse.duckdb"  # in a run's project folder
RAW_SCHEMA = "raw_gold"  # where pg_ctas writes (the model's table is gold.customer_value)
# As the Sluiceway warehouse opens DuckDB: rows may be stored in any order (parallel inserts).
DUCKDB_CONFIG: dict[str, Any] = {"preserve_insertion_order": False}
COLUMNS = [
    "customer_id",
    "orders",
    "revenue",
    "avg_amount",
    "first_order",
    "last_order",
    "region",
    "region_rank",
]

# The model, in DuckDB's dialect and valid on PostgreSQL as written.
SQL = """\
WITH per_customer AS (
  SELECT
    customer_id,
    count(*) AS orders,
    sum(amount) AS revenue,
    avg(amount) AS avg_amount,
    min(order_ts) AS first_order,
    max(order_ts) AS last_order
  FROM bronze.orders
  WHERE status = 'paid'
  GROUP BY customer_id
)
SELECT
  p.customer_id,
  p.orders,
  p.revenue,
  p.avg_amount,
  p.first_order,
  p.last_order,
  c.region,
  row_number() OVER (PARTITION BY c.region ORDER BY p.revenue DESC, p.customer_id) AS region_rank
FROM per_customer AS p
JOIN bronze.customers AS c ON p.customer_id = c.customer_id
"""

OPS_MODEL = """\
materialized: table
source: bronze.orders
ops:
  - {op: filter, where: {column: status, op: eq, value: paid}}
  - op: aggregate
    group_by: [customer_id]
    measures:
      orders: {fn: count}
      revenue: {fn: sum, column: amount}
      avg_amount: {fn: avg, column: amount}
      first_order: {fn: min, column: order_ts}
      last_order: {fn: max, column: order_ts}
  - {op: join, table: bronze.customers, how: inner, on: {customer_id: customer_id},
     select: {region: region}}
  - op: window
    partition_by: region
    order_by: ["revenue desc", customer_id]
    columns: {region_rank: {fn: row_number}}
"""

PY_DUCKDB_MODEL = """\
from sluiceway import model


@model("gold.customer_value", inputs={"orders": "bronze.orders", "customers": "bronze.customers"})
def customer_value(orders, customers):
    per_customer = orders.filter("status = 'paid'").aggregate(
        "customer_id, count(*) AS orders, sum(amount) AS revenue, avg(amount) AS avg_amount, "
        "min(order_ts) AS first_order, max(order_ts) AS last_order",
        "customer_id",
    )
    joined = per_customer.join(customers.project("customer_id, region"), "customer_id")
    return joined.project(
        "customer_id, orders, revenue, avg_amount, first_order, last_order, region, "
        "row_number() OVER (PARTITION BY region ORDER BY revenue DESC, customer_id) "
        "AS region_rank"
    )
"""

PY_ARROW_MODEL = """\
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluiceway import model


@model(
    "gold.customer_value",
    inputs={"orders": "bronze.orders", "customers": "bronze.customers"},
    format="arrow",
)
def customer_value(orders, customers):
    paid = orders.filter(pc.equal(orders["status"], "paid"))
    paid = paid.append_column("amount_f", pc.cast(paid["amount"], pa.float64()))
    per = paid.group_by("customer_id").aggregate(
        [
            ([], "count_all"),
            ("amount", "sum"),
            ("amount_f", "mean"),
            ("order_ts", "min"),
            ("order_ts", "max"),
        ]
    )
    joined = per.join(customers.select(["customer_id", "region"]), "customer_id")
    ranked = joined.sort_by(
        [("region", "ascending"), ("amount_sum", "descending"), ("customer_id", "ascending")]
    )
    codes = pc.dictionary_encode(ranked["region"]).combine_chunks().indices.to_numpy()
    index = np.arange(len(codes))
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, len(codes)]))
    return pa.table(
        {
            "customer_id": ranked["customer_id"],
            "orders": ranked["count_all"],
            "revenue": ranked["amount_sum"],
            "avg_amount": ranked["amount_f_mean"],
            "first_order": ranked["order_ts_min"],
            "last_order": ranked["order_ts_max"],
            "region": ranked["region"],
            "region_rank": pa.array(index - first + 1),
        }
    )
"""

MODEL_FILES = {
    "sql": ("customer_value.sql", f"/* {{materialized: table}} */\n{SQL}"),
    "ops": ("customer_value.yaml", OPS_MODEL),
    "py_duckdb": ("customer_value.py", PY_DUCKDB_MODEL),
    "py_arrow": ("customer_value.py", PY_ARROW_MODEL),
}


# -- data -----------------------------------------------------------------------------------


def generate(rows: int) -> tuple[pa.Table, pa.Table]:
    """``rows`` orders and their customers (one per ten orders): the same for the same N.
    Amounts are whole cents here; the load makes them DECIMAL(10,2)."""
    rng = np.random.default_rng(SEED)
    customers = max(rows // 10, 1)
    start_us = 1_704_067_200_000_000  # 2024-01-01 00:00
    orders = pa.table(
        {
            "order_id": pa.array(np.arange(1, rows + 1, dtype=np.int64)),
            "customer_id": pa.array(rng.integers(1, customers + 1, rows, dtype=np.int32)),
            "amount_cents": pa.array(rng.integers(100, 50_000, rows, dtype=np.int64)),
            "status": pa.array(STATUSES).take(
                pa.array(rng.choice(len(STATUSES), rows, p=STATUS_SHARES))
            ),
            "order_ts": pa.array(
                start_us + rng.integers(0, 366 * 86_400 * 1_000_000, rows), pa.timestamp("us")
            ),
        }
    )
    people = pa.table(
        {
            "customer_id": pa.array(np.arange(1, customers + 1, dtype=np.int32)),
            "region": pa.array(REGIONS).take(pa.array(rng.integers(0, len(REGIONS), customers))),
            "signup_date": pa.array(
                19_000 + rng.integers(0, 700, customers).astype(np.int32), pa.date32()
            ),
        }
    )
    return orders, people


def build_template(work: Path, rows: int) -> int:
    """The loaded warehouse (``TEMPLATE``) and the reference result (``EXPECTED``); the
    reference's row count."""
    orders, people = generate(rows)
    path = work / TEMPLATE
    with duckdb.connect(str(path), config=DUCKDB_CONFIG) as con:
        con.register("orders_arrow", orders)
        con.register("customers_arrow", people)
        con.execute("CREATE SCHEMA bronze")
        con.execute(
            "CREATE TABLE bronze.orders AS SELECT order_id, customer_id, "
            "CAST(CAST(amount_cents AS DECIMAL(18, 0)) * 0.01 AS DECIMAL(10, 2)) AS amount, "
            "status, order_ts FROM orders_arrow ORDER BY order_id"
        )
        con.execute("CREATE TABLE bronze.customers AS SELECT * FROM customers_arrow")
        con.execute("CHECKPOINT")
    sluiceway_bookkeeping(path)
    with duckdb.connect(str(path), read_only=True) as con:
        con.sql(SQL).to_parquet(str(work / EXPECTED))
        row = con.execute("SELECT count(*) FROM read_parquet(?)", [str(work / EXPECTED)]).fetchone()
    assert row is not None
    return int(row[0])


def sluiceway_bookkeeping(path: Path) -> None:
    """Open the file once as a Sluiceway warehouse: its bookkeeping tables are created."""
    from sluiceway.warehouses.base import WarehouseContext
    from sluiceway.warehouses.duckdb.warehouse import DuckDBSpec, DuckDBWarehouse

    spec = DuckDBSpec(type="duckdb", path=str(path))
    warehouse = DuckDBWarehouse(spec, WarehouseContext(path.parent, lambda p: path.parent / p))
    warehouse.open()
    warehouse.close()


# -- what a contender's process is told and reports -----------------------------------------


@dataclass
class Child:
    name: str
    work: Path  # the benchmark's work folder (template, reference)
    attempt: int
    url: str  # the throwaway PostgreSQL database ("" for the DuckDB contenders)

    @property
    def folder(self) -> Path:
        """This run's own folder (a project folder for Sluiceway)."""
        return self.work / "runs" / f"{self.name}-{self.attempt}"


@dataclass
class Outcome:
    seconds: float  # the timed build
    cpu_seconds: float  # this process's CPU during it (every thread)
    step_seconds: float | None  # Sluiceway's model step, as the run reports it
    rows: int  # rows in the built table
    problems: list[str] = field(default_factory=list)  # differences from the reference
    notes: list[str] = field(default_factory=list)


@dataclass
class Clock:
    wall: float = 0.0
    cpu: float = 0.0


@contextlib.contextmanager
def stopwatch() -> Iterator[Clock]:
    clock = Clock()
    wall, cpu = time.perf_counter(), time.process_time()
    yield clock
    clock.wall, clock.cpu = time.perf_counter() - wall, time.process_time() - cpu


# -- checking a built table -----------------------------------------------------------------

COMPARE = """
SELECT
  count(*) FILTER (WHERE e.customer_id IS NULL) AS extra,
  count(*) FILTER (WHERE o.customer_id IS NULL) AS missing,
  count(*) FILTER (WHERE e.customer_id IS NOT NULL AND o.customer_id IS NOT NULL AND NOT coalesce(
    o.orders = e.orders
    AND abs(CAST(o.revenue AS DOUBLE) - CAST(e.revenue AS DOUBLE)) < 0.005
    AND abs(CAST(o.avg_amount AS DOUBLE) - e.avg_amount) <= 1e-9 * abs(e.avg_amount)
    AND CAST(o.first_order AS TIMESTAMP) = e.first_order
    AND CAST(o.last_order AS TIMESTAMP) = e.last_order
    AND o.region = e.region
    AND o.region_rank = e.region_rank, false)) AS differ
FROM read_parquet($expected) AS e
FULL JOIN output AS o ON o.customer_id = e.customer_id
"""


def compare(output: pa.Table, expected: Path) -> list[str]:
    """How ``output`` differs from the reference (nothing: the same rows)."""
    names = [n for n in output.column_names if not n.startswith("_sluiceway_")]
    if names != COLUMNS:
        return [f"columns {names}, expected {COLUMNS}"]
    with duckdb.connect() as con:
        con.register("output", output.select(COLUMNS))
        row = con.execute(COMPARE, {"expected": str(expected)}).fetchone()
    assert row is not None
    extra, missing, differ = (int(v) for v in row)
    problems = []
    if extra:
        problems.append(f"{extra:,} customer(s) the reference does not have")
    if missing:
        problems.append(f"{missing:,} customer(s) of the reference missing")
    if differ:
        problems.append(f"{differ:,} row(s) with other values")
    return problems


def duckdb_table(path: Path) -> pa.Table:
    with duckdb.connect(str(path), read_only=True) as con:
        table: pa.Table = con.table(TABLE).to_arrow_table()
    return table


def postgres_table(url: str, table: str) -> pa.Table:
    import psycopg

    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        names = [column.name for column in cursor.description or ()]
        rows = cursor.fetchall()
    return pa.table({name: pa.array([row[i] for row in rows]) for i, name in enumerate(names)})


# -- the contenders (each runs in a child process) ------------------------------------------

Build = Callable[[], None]


def copy_warehouse(child: Child) -> Path:
    """A fresh copy of the loaded warehouse in the run's folder (not timed)."""
    child.folder.mkdir(parents=True)
    target = child.folder / WAREHOUSE
    shutil.copyfile(child.work / TEMPLATE, target)
    return target


def prepare_duckdb_ctas(child: Child) -> Build:
    path = str(copy_warehouse(child))

    def build() -> None:
        with duckdb.connect(path, config=DUCKDB_CONFIG) as con:
            con.execute("CREATE SCHEMA IF NOT EXISTS gold")
            con.execute(f"CREATE OR REPLACE TABLE {TABLE} AS {SQL}")

    return build


def prepare_pandas(child: Child) -> Build:
    import pandas as pd

    path = str(copy_warehouse(child))

    def build() -> None:
        with duckdb.connect(path, config=DUCKDB_CONFIG) as con:
            orders = con.table("bronze.orders").df()
            customers = con.table("bronze.customers").df()
            paid = orders[orders["status"] == "paid"]
            per = (
                paid.groupby("customer_id")
                .agg(
                    orders=("amount", "size"),
                    revenue=("amount", "sum"),
                    avg_amount=("amount", "mean"),
                    first_order=("order_ts", "min"),
                    last_order=("order_ts", "max"),
                )
                .reset_index()
            )
            out = per.merge(customers[["customer_id", "region"]], on="customer_id")
            # Amounts arrive as float64: rank by the cents, as the DECIMAL sum does.
            out["cents"] = out["revenue"].round(2)
            out = out.sort_values(["region", "cents", "customer_id"], ascending=[True, False, True])
            out["region_rank"] = out.groupby("region").cumcount() + 1
            result: pd.DataFrame = out[COLUMNS]
            con.register("result_frame", result)
            con.execute("CREATE SCHEMA IF NOT EXISTS gold")
            con.execute(f"CREATE OR REPLACE TABLE {TABLE} AS SELECT * FROM result_frame")

    return build


def prepare_polars(child: Child) -> Build:
    import polars as pl

    path = str(copy_warehouse(child))

    def build() -> None:
        with duckdb.connect(path, config=DUCKDB_CONFIG) as con:
            orders = pl.from_arrow(con.table("bronze.orders").to_arrow_table())
            customers = pl.from_arrow(con.table("bronze.customers").to_arrow_table())
            assert isinstance(orders, pl.DataFrame)
            assert isinstance(customers, pl.DataFrame)
            result = (
                orders.lazy()
                .filter(pl.col("status") == "paid")
                .group_by("customer_id")
                .agg(
                    orders=pl.len(),
                    revenue=pl.col("amount").sum(),
                    avg_amount=pl.col("amount").cast(pl.Float64).mean(),
                    first_order=pl.col("order_ts").min(),
                    last_order=pl.col("order_ts").max(),
                )
                .join(customers.lazy().select("customer_id", "region"), on="customer_id")
                .sort(["region", "revenue", "customer_id"], descending=[False, True, False])
                .with_columns(region_rank=pl.int_range(1, pl.len() + 1).over("region"))
                .select(COLUMNS)
                .collect()
            )
            con.register("result_frame", result.to_arrow())
            con.execute("CREATE SCHEMA IF NOT EXISTS gold")
            con.execute(f"CREATE OR REPLACE TABLE {TABLE} AS SELECT * FROM result_frame")

    return build


def sluiceway_project(child: Child, kind: str, warehouse: str, *, profile: bool) -> Path:
    """A project folder: a pipeline with no sources, one model, the warehouse given."""
    name, text = MODEL_FILES[kind]
    model = child.folder / "models" / "gold" / name
    model.parent.mkdir(parents=True, exist_ok=True)
    model.write_text(text, encoding="utf-8")
    quality = "" if profile else "quality: {profile: false}\n"
    pipeline = child.folder / "sluiceway.yaml"
    pipeline.write_text(
        f"pipeline: bench_models\n{textwrap.dedent(warehouse).strip()}\n{quality}",
        encoding="utf-8",
    )
    return pipeline


def sluiceway_build(pipeline_file: Path, step_seconds: list[float]) -> Build:
    """One ``sluiceway run`` in process, with the records the CLI keeps (run history,
    lineage, schema registry, quality log); the model step's duration goes to
    ``step_seconds``."""
    from sluiceway.core.events import EventBus
    from sluiceway.core.status import RunStatus
    from sluiceway.engine.quality_store import MetaQualityLog
    from sluiceway.engine.registry import Registry
    from sluiceway.engine.runner import PipelineRunner
    from sluiceway.engine.schema_store import MetaSchemaRegistry
    from sluiceway.meta.store import MetaStore
    from sluiceway.observe.lineage_recorder import LineageRecorder
    from sluiceway.observe.meta_recorder import MetaRecorder

    registry = Registry()

    def build() -> None:
        pipeline = registry.load(pipeline_file)
        bus = EventBus()
        with MetaStore.for_state_dir(pipeline.state_dir) as store:
            bus.subscribe(MetaRecorder(store))
            bus.subscribe(LineageRecorder(store))
            runner = PipelineRunner(
                pipeline,
                registry=registry,
                bus=bus,
                schemas=MetaSchemaRegistry(store),
                quality=MetaQualityLog(store),
            )
            result = runner.run()
        if result.status is not RunStatus.SUCCEEDED:
            errors = [f"{s.name}: {s.error}" for s in result.steps if s.error is not None]
            raise RuntimeError(f"the run {result.status.value}: {'; '.join(errors)}")
        step_seconds.append(result.steps[-1].duration_s)

    return build


PG_ENV = "BENCH_MODELS_PG"  # the pipeline names its PostgreSQL warehouse through it


def sluiceway_preparer(
    kind: str, *, engine: str = "duckdb", profile: bool = True
) -> Callable[[Child, list[float]], Build]:
    """How a Sluiceway contender gets ready: its project folder, and the run that builds."""

    def prepare(child: Child, step_seconds: list[float]) -> Build:
        if engine == "duckdb":
            copy_warehouse(child)
            warehouse = f"warehouse: {{type: duckdb, path: {WAREHOUSE}}}"
        else:
            child.folder.mkdir(parents=True)
            os.environ[PG_ENV] = child.url
            warehouse = f"warehouse: {{type: postgres, connection: '${{{PG_ENV}}}'}}"
        project = sluiceway_project(child, kind, warehouse, profile=profile)
        return sluiceway_build(project, step_seconds)

    return prepare


def prepare_pg_ctas(child: Child) -> Build:
    import psycopg

    child.folder.mkdir(parents=True)

    def build() -> None:
        with psycopg.connect(child.url) as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
            conn.execute(f"DROP TABLE IF EXISTS {RAW_SCHEMA}.customer_value")
            conn.execute(f"CREATE TABLE {RAW_SCHEMA}.customer_value AS {SQL}")

    return build


def settle(url: str) -> None:
    """Flush dirty pages before a timed build, so none pays for the previous one's writes."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


@dataclass(frozen=True)
class Contender:
    how: str
    engine: str  # duckdb | postgres
    prepare: Callable[..., Build]  # (child), or for Sluiceway (child, step_seconds)
    sluiceway: bool = False
    table: str = TABLE  # the table it builds


def ours(kind: str, how: str, *, engine: str = "duckdb", profile: bool = True) -> Contender:
    prepare = sluiceway_preparer(kind, engine=engine, profile=profile)
    return Contender(how, engine, prepare, sluiceway=True)


CONTENDERS: dict[str, Contender] = {
    "duckdb_ctas": Contender(
        "THE LIMIT: raw CREATE OR REPLACE TABLE AS", "duckdb", prepare_duckdb_ctas
    ),
    "sql_model": ours("sql", ".sql model, materialized: table"),
    "sql_model_noprofile": ours("sql", "the same, quality: {profile: false}", profile=False),
    "ops_model": ours("ops", ".yaml operations model"),
    "py_duckdb": ours("py_duckdb", "Python transform, format=duckdb (relations)"),
    "py_arrow": ours("py_arrow", "Python transform, format=arrow (pyarrow compute)"),
    "pandas": Contender("pandas: .df(), groupby, register + CTAS", "duckdb", prepare_pandas),
    "polars": Contender("polars: Arrow, lazy query, register + CTAS", "duckdb", prepare_polars),
    "pg_ctas": Contender(
        "THE LIMIT: CREATE TABLE AS on the server",
        "postgres",
        prepare_pg_ctas,
        table=f"{RAW_SCHEMA}.customer_value",
    ),
    "pg_sql_model": ours("sql", ".sql model on a postgres warehouse", engine="postgres"),
    "pg_sql_model_noprofile": ours(
        "sql", "the same, quality: {profile: false}", engine="postgres", profile=False
    ),
}
LIMITS = {"duckdb": "duckdb_ctas", "postgres": "pg_ctas"}


def child_main(child: Child) -> int:
    contender = CONTENDERS[child.name]
    step_seconds: list[float] = []
    if contender.sluiceway:
        build = contender.prepare(child, step_seconds)
    else:
        build = contender.prepare(child)
    build()  # warm-up, not timed: the table exists, as it does for a scheduled model
    if contender.engine == "postgres":
        settle(child.url)
    with stopwatch() as spent:
        build()
    if contender.engine == "duckdb":
        output = duckdb_table(child.folder / WAREHOUSE)
    else:
        output = postgres_table(child.url, contender.table)
    outcome = Outcome(
        seconds=spent.wall,
        cpu_seconds=spent.cpu,
        step_seconds=step_seconds[-1] if step_seconds else None,
        rows=output.num_rows,
        problems=compare(output, child.work / EXPECTED),
    )
    print(json.dumps(outcome.__dict__))
    return 0


# -- the parent -----------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    contender: Contender
    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.outcomes) and not self.problems

    @property
    def seconds(self) -> float:
        return statistics.median(o.seconds for o in self.outcomes)

    @property
    def cpu_seconds(self) -> float:
        return statistics.median(o.cpu_seconds for o in self.outcomes)

    @property
    def step_seconds(self) -> float | None:
        steps = [o.step_seconds for o in self.outcomes if o.step_seconds is not None]
        return statistics.median(steps) if steps else None


def measure(result: Result, child: Child, label: str) -> None:
    """Run one contender once in its own process; take its outcome and its table's check."""
    argv = [sys.executable, __file__, "--child", child.name, "--work", str(child.work)]
    argv += ["--attempt", str(child.attempt), "--url", child.url]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    shutil.rmtree(child.folder, ignore_errors=True)
    name = f"{child.name:<22} {label:>5}"
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        print(f"{name} FAILED:\n{tail}", flush=True)
        result.problems.append(f"failed (exit {done.returncode})")
        return
    outcome = Outcome(**json.loads(done.stdout.strip().splitlines()[-1]))
    result.outcomes.append(outcome)
    if outcome.problems:
        result.problems.append("WRONG: " + "; ".join(outcome.problems))
    verdict = result.problems[-1] if outcome.problems else f"checked: {outcome.rows:,} rows equal"
    step = f" (step {outcome.step_seconds:.2f} s)" if outcome.step_seconds is not None else ""
    print(f"{name} {outcome.seconds:7.2f} s{step:<16} {verdict}", flush=True)


def measure_all(work: Path, names: list[str], url: str, repeat: int) -> dict[str, Result]:
    """``repeat`` rounds, each running every contender once, in turn."""
    results = {name: Result(name, CONTENDERS[name]) for name in names}
    for attempt in range(1, repeat + 1):
        for name in names:
            child = Child(name, work, attempt, url if CONTENDERS[name].engine == "postgres" else "")
            measure(results[name], child, f"{attempt}/{repeat}")
    return results


def server_facts(server: str) -> str:
    import psycopg

    facts = []
    with psycopg.connect(f"{server}/postgres", connect_timeout=5) as conn:
        for setting in ("server_version", "shared_buffers", "work_mem", "max_parallel_workers"):
            row = conn.execute(f"SHOW {setting}").fetchone()
            assert row is not None
            facts.append(f"{setting}={row[0]}")
    return "PostgreSQL " + ", ".join(facts)


@contextlib.contextmanager
def throwaway_database(server: str, work: Path) -> Iterator[str]:
    """A new database holding the loaded tables (its URL); dropped afterwards whatever
    happens."""
    import psycopg

    name = f"sluiceway_bench_models_{os.getpid()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = f"{server}/{name}"
    try:
        load_postgres(url, work / TEMPLATE)
        yield url
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def load_postgres(url: str, template: Path) -> None:
    """The template's bronze tables, by COPY (CSV written by pyarrow), with primary keys."""
    import io

    import psycopg
    import pyarrow.csv as pacsv

    tables = {
        "bronze.orders": "order_id BIGINT PRIMARY KEY, customer_id INTEGER NOT NULL, "
        "amount NUMERIC(10, 2) NOT NULL, status TEXT NOT NULL, order_ts TIMESTAMP NOT NULL",
        "bronze.customers": "customer_id INTEGER PRIMARY KEY, region TEXT NOT NULL, "
        "signup_date DATE NOT NULL",
    }
    with psycopg.connect(url) as conn:
        conn.execute("CREATE SCHEMA bronze")
        for table, columns in tables.items():
            conn.execute(f"CREATE TABLE {table} ({columns})")
            with duckdb.connect(str(template), read_only=True) as con:
                data = con.table(table).to_arrow_table()
            buffer = io.BytesIO()
            pacsv.write_csv(data, buffer, pacsv.WriteOptions(include_header=False))
            with conn.cursor().copy(f"COPY {table} FROM STDIN (FORMAT CSV)") as copy:
                copy.write(buffer.getbuffer())
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def report(results: dict[str, Result], rows: int, repeat: int) -> None:
    from rich.console import Console
    from rich.table import Table

    title = f"{rows:,} orders -> {TABLE} (median of {repeat} runs)"
    table = Table(title=title, title_justify="left")
    for column in ("contender", "runs", "seconds", "rows/s", "x limit", "cpu s", "step s"):
        table.add_column(column, justify="left" if column == "contender" else "right")
    table.add_column("how")
    for name, result in results.items():
        if not result.ok:
            table.add_row(name, str(len(result.outcomes)), *"-----", "; ".join(result.problems))
            continue
        limit = results.get(LIMITS[result.contender.engine])
        share = limit.seconds / result.seconds if limit is not None and limit.ok else None
        step = result.step_seconds
        table.add_row(
            name,
            str(len(result.outcomes)),
            f"{result.seconds:.2f}",
            f"{rows / result.seconds:,.0f}",
            "-" if share is None else f"{share:.2f}",
            f"{result.cpu_seconds:.2f}",
            "-" if step is None else f"{step:.2f}",
            result.contender.how,
        )
    console = Console() if sys.stdout.isatty() else Console(width=140)
    console.print(table)
    print(
        "seconds: the timed build (median); rows/s: input orders per second; x limit: the "
        "limit's seconds over the contender's (its rows/s as a share of the limit's); cpu s: "
        "the contender's process, every thread (not the PostgreSQL server's); step s: "
        "Sluiceway's model step alone (the run around it: loading the pipeline, opening the "
        "warehouse, the run's records)"
    )


def summary_lines(results: dict[str, Result]) -> list[str]:
    """What the table does not say: the profile's share, and how much the runs scattered."""
    lines = []
    for engine, profiled, plain in (
        ("DuckDB", "sql_model", "sql_model_noprofile"),
        ("PostgreSQL", "pg_sql_model", "pg_sql_model_noprofile"),
    ):
        a, b = results.get(profiled), results.get(plain)
        if a is None or b is None or not a.ok or not b.ok:
            continue
        cost = a.seconds - b.seconds
        lines.append(
            f"{engine}: the quality profile of the model's rows (on by default) costs "
            f"{cost:.2f} s, {cost / a.seconds:.0%} of {profiled}'s run"
        )
    for name in ("duckdb_ctas", "sql_model", "pandas", "pg_ctas", "pg_sql_model"):
        result = results.get(name)
        if result is not None and result.ok and len(result.outcomes) > 1:
            runs = ", ".join(
                f"{o.seconds:.2f}" for o in sorted(result.outcomes, key=lambda o: o.seconds)
            )
            lines.append(f"runs' seconds, {name}: {runs}")
    return lines


def ratio(results: dict[str, Result], slower: str, faster: str) -> float | None:
    """``slower``'s seconds over ``faster``'s, when both built the right table."""
    a, b = results.get(slower), results.get(faster)
    if a is None or b is None or not a.ok or not b.ok:
        return None
    return a.seconds / b.seconds


# name, (numerator, denominator of the seconds), goal text, bound, met when
TARGETS: list[tuple[str, tuple[str, str], str, float, Callable[[float, float], bool]]] = [
    ("models_sql_vs_ctas", ("duckdb_ctas", "sql_model"), ">= 0.5", 0.5, lambda v, b: v >= b),
    ("models_ops_vs_sql", ("ops_model", "sql_model"), "<= 1.15", 1.15, lambda v, b: v <= b),
    ("models_py_duckdb_vs_ctas", ("duckdb_ctas", "py_duckdb"), ">= 0.5", 0.5, lambda v, b: v >= b),
    ("models_sql_vs_pandas", ("pandas", "sql_model"), "> 1", 1.0, lambda v, b: v > b),
    ("models_postgres_vs_ctas", ("pg_ctas", "pg_sql_model"), ">= 0.5", 0.5, lambda v, b: v >= b),
]


def target_lines(results: dict[str, Result], skipped: str | None) -> list[str]:
    lines = []
    for name, (top, bottom), goal, bound, met in TARGETS:
        value = ratio(results, top, bottom)
        if value is None:
            why = "n/a" if skipped is None or CONTENDERS[top].engine != "postgres" else skipped
            lines.append(f"target {name}: {why} (goal {goal}) missed")
            continue
        verdict = "met" if met(value, bound) else "missed"
        lines.append(f"target {name}: {value:.2f} (goal {goal}) {verdict}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="orders (customers: 1/10)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the median counts")
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL server, no database")
    parser.add_argument(
        "--require-postgres", action="store_true", help="fail (not skip) without PostgreSQL"
    )
    parser.add_argument("--only", nargs="*", choices=list(CONTENDERS), help="these contenders")
    parser.add_argument("--child", choices=list(CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--attempt", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(Child(args.child, args.work, args.attempt, args.url))
    if args.rows < 1000 or args.repeat < 1:
        parser.error("--rows must be at least 1000, --repeat at least 1")
    names: list[str] = args.only or list(CONTENDERS)
    server = args.url.rstrip("/")
    print(
        f"models: {args.rows:,} orders, {max(args.rows // 10, 1):,} customers (seed {SEED}); "
        f"{len(names)} contenders, {args.repeat} interleaved round(s), the median counts; "
        f"{os.cpu_count()} CPUs; load average before: {load_average()}",
        flush=True,
    )
    skipped: str | None = None
    if any(CONTENDERS[n].engine == "postgres" for n in names):
        try:
            print(server_facts(server), flush=True)
        except Exception as exc:  # psycopg's OperationalError: no server there
            skipped = f"skipped, no PostgreSQL at {server}"
            print(f"models: cannot reach PostgreSQL at {server}: {str(exc).strip()}")
            if args.require_postgres:
                for line in target_lines({}, skipped):
                    print(line)
                return 1
            print("models: the PostgreSQL contenders are skipped (--require-postgres fails)")
            names = [n for n in names if CONTENDERS[n].engine != "postgres"]
    with tempfile.TemporaryDirectory(prefix="sluiceway-bench-models-") as folder:
        work = Path(folder)
        with stopwatch() as setup:
            expected = build_template(work, args.rows)
        size = (work / TEMPLATE).stat().st_size / 1e6
        print(
            f"data: {size:,.0f} MB DuckDB file, reference {expected:,} rows "
            f"({setup.wall:.1f} s, not timed)",
            flush=True,
        )
        url = ""
        with contextlib.ExitStack() as stack:
            if skipped is None and any(CONTENDERS[n].engine == "postgres" for n in names):
                with stopwatch() as loading:
                    url = stack.enter_context(throwaway_database(server, work))
                print(f"PostgreSQL: tables loaded ({loading.wall:.1f} s, not timed)", flush=True)
            results = measure_all(work, names, url, args.repeat)
    print(f"load average after: {load_average()}")
    print()
    report(results, args.rows, args.repeat)
    for line in summary_lines(results):
        print(line)
    wrong = sorted(name for name, result in results.items() if not result.ok)
    if wrong:
        print(f"FAILED: {', '.join(wrong)} (see above): a failed or wrong table is not a result")
    for line in target_lines(results, skipped):
        print(line)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
