"""PostgreSQL load benchmark: 2M Arrow rows of orders into PostgreSQL, many ways, in one run.

The rows (bigint id, int customer id, float amount, a text status of five values, a 20-40
character text note with 15% nulls, timestamptz, date, boolean) are generated as Arrow in
memory from a fixed seed. A throwaway database is created on the server and dropped at the
end. Contenders, each run in its own process and into a new table (only the load is timed):

- sluiceway:      the ``postgres`` warehouse, ``write: append`` (binary COPY of the Arrow
                  batches, encoded by pgpq), opening the warehouse included;
- raw_copy:       THE LIMIT: psycopg 3 ``cursor.copy("COPY … FROM STDIN (FORMAT BINARY)")``,
                  ``set_types`` then ``write_row`` over ready Python tuples (what people write
                  by hand; turning the Arrow table into tuples is not timed);
- executemany:    psycopg 3 ``executemany`` INSERTs in batches of 1,000 rows;
- pandas:         ``DataFrame.to_sql(method="multi", chunksize=1000)`` over SQLAlchemy with
                  psycopg 3 (the DataFrame is built before the clock starts);
- dlt_default:    dlt's postgres destination, a ``dlt.resource`` yielding the Arrow table, no
                  options (extract, normalize and load timed). For Arrow items dlt picks csv:
                  its preferred ``insert_values`` has no Arrow writer, so pyarrow writes CSV
                  and the load is ``COPY … FROM STDIN (FORMAT CSV)``;
- dlt_parquet:    the same with ``loader_file_format="parquet"``: loaded by ADBC
                  (``adbc-driver-postgresql``: ``adbc_ingest``, a binary COPY), dlt's fast path
                  for Arrow. "dlt's fastest" in the targets is the faster of the two;
- index_keep / index_rebuild: a table holding N rows with three secondary indexes; N more rows
                  appended by Sluiceway with ``index_strategy: keep`` / ``rebuild`` (a fresh table
                  each; the N first rows and the indexes are not timed).

The fast paths (sluiceway, raw_copy, dlt_parquet) run ``--repeat`` times in interleaved rounds
and the median counts (other processes share the machine: single runs scatter); the others run
once, their ratios being far from the goals. executemany and pandas are slow: they load a
``--sample`` of the rows and their rows/s is extrapolated to N (said so in the output). dlt
runs in a temporary folder; an untimed one-row run first creates its dataset and bookkeeping
tables, as Sluiceway's bookkeeping is created before any clock starts. A ``CHECKPOINT``
precedes every timed load. After every load the table's row count and checksums (sum of ids,
of customer ids, of amounts in cents, of note lengths, of timestamps in microseconds, of dates,
the gift count, the distinct statuses) must equal the Arrow rows'; a mismatch or a failed
contender fails the benchmark (exit 1).
Targets: Sluiceway >= 0.8x the limit's rows/s, faster than dlt's fastest path, >= 5x dlt's
default path, >= 50x pandas.

    python bench/postgres_load.py [--rows 2000000] [--sample 100000] [--repeat 3]
                                  [--url postgresql://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DEFAULT_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
SCHEMA = "bench"
SEED = 20_240_601
BATCH_ROWS = 65_536  # Sluiceway's default batch size
INSERT_BATCH = 1_000
STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled"]
STATUS_SHARES = [0.1, 0.2, 0.3, 0.35, 0.05]
NOTE_WORDS = [
    *("leave", "at", "door", "ring", "twice", "fragile", "gift", "wrap", "call", "before"),
    *("delivery", "back", "entrance", "no", "plastic", "after", "five", "pm", "side", "gate"),
    *("neighbour", "accepts", "express", "priority", "invoice", "attached", "reorder"),
]
COLUMNS = (
    "id BIGINT, customer_id INTEGER, amount DOUBLE PRECISION, status TEXT, note TEXT, "
    "created_at TIMESTAMPTZ, order_date DATE, is_gift BOOLEAN"
)
COPY_TYPES = ["int8", "int4", "float8", "text", "text", "timestamptz", "date", "bool"]
INSERT = f"INSERT INTO {{}} VALUES ({', '.join(['%s'] * len(COPY_TYPES))})"
FIGURES = (
    "rows",
    "sum_id",
    "sum_customer_id",
    "sum_cents",
    "notes",
    "note_chars",
    "gifts",
    "sum_created_us",
    "sum_days",
    "statuses",
)
FIGURES_SQL = (
    "SELECT count(*), sum(id), sum(customer_id), sum(round(amount * 100))::bigint, count(note), "
    "coalesce(sum(length(note)), 0), count(*) FILTER (WHERE is_gift), "
    "sum((extract(epoch FROM created_at) * 1000000)::bigint), "
    "sum(order_date - DATE '1970-01-01'), count(DISTINCT status) FROM {}"
)

Figures = dict[str, int]


# -- data -----------------------------------------------------------------------------------


def orders(rows: int, *, first_id: int = 1) -> pa.Table:
    """``rows`` orders with ids from ``first_id``: the same rows for the same arguments."""
    rng = np.random.default_rng([SEED, first_id])
    pool = note_pool(rng)
    notes = pool.take(pa.array(rng.integers(0, len(pool), rows)))
    notes = pc.if_else(pa.array(rng.random(rows) < 0.15), pa.scalar(None, pa.string()), notes)
    start_us = 1_704_067_200_000_000  # 2024-01-01 00:00 UTC
    created = pa.array(
        start_us + rng.integers(0, 366 * 86_400 * 1_000_000, rows), pa.timestamp("us", tz="UTC")
    )
    statuses = rng.choice(len(STATUSES), rows, p=STATUS_SHARES)
    return pa.table(
        {
            "id": pa.array(np.arange(first_id, first_id + rows, dtype=np.int64)),
            "customer_id": pa.array(rng.integers(1, 250_000, rows, dtype=np.int32)),
            "amount": pa.array(rng.integers(100, 500_000, rows) / 100),
            "status": pa.array(STATUSES).take(pa.array(statuses)),
            "note": notes,
            "created_at": created,
            "order_date": created.cast(pa.date32()),
            "is_gift": pa.array(rng.random(rows) < 0.1),
        }
    )


def note_pool(rng: np.random.Generator, size: int = 50_000) -> pa.Array:
    """Free-text notes of 20 to 40 characters."""
    notes = []
    for length in rng.integers(20, 41, size):
        words = rng.choice(NOTE_WORDS, 8)
        notes.append(" ".join(str(word) for word in words)[:length].strip().ljust(length, "."))
    return pa.array(notes, pa.string())


def expected_figures(table: pa.Table) -> Figures:
    """What :data:`FIGURES_SQL` must return for a table holding exactly these rows."""
    micros = table["created_at"].cast(pa.int64()).to_numpy()
    seconds, rest = np.divmod(micros, 1_000_000)
    cents = np.round(table["amount"].to_numpy() * 100).astype(np.int64)
    values = (
        table.num_rows,
        pc.sum(table["id"]).as_py(),
        pc.sum(table["customer_id"].cast(pa.int64())).as_py(),
        int(cents.sum()),
        table.num_rows - table["note"].null_count,
        pc.sum(pc.utf8_length(table["note"])).as_py() or 0,
        pc.sum(table["is_gift"].cast(pa.int64())).as_py(),
        int(seconds.sum()) * 1_000_000 + int(rest.sum()),
        pc.sum(table["order_date"].cast(pa.int32()).cast(pa.int64())).as_py(),
        len(pc.unique(table["status"])),
    )
    return dict(zip(FIGURES, (int(v) for v in values), strict=True))


def python_rows(table: pa.Table) -> list[tuple[Any, ...]]:
    """The rows as Python tuples, as a hand-written loader holds them."""
    return list(zip(*(column.to_pylist() for column in table.columns), strict=True))


# -- helpers shared by the children ---------------------------------------------------------


@dataclass
class Child:
    """What a contender's process is told: where to load, how many rows."""

    name: str
    url: str  # of the throwaway database
    rows: int
    sample: int
    attempt: int  # 1, 2, …: each run loads a table of its own

    @property
    def table(self) -> str:
        """The table (or dlt's dataset) this run loads, without the schema."""
        return f"{self.name}_{self.attempt}"


@dataclass
class Outcome:
    """What a contender's process reports (one JSON line on stdout)."""

    seconds: float  # the timed load
    cpu_seconds: float  # this process's CPU (every thread) during the timed load
    rows: int  # rows the timed load wrote
    figures: Figures
    expected: Figures
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(
        cls, clock: Clock, *, rows: int, found: Figures, data: pa.Table, notes: list[str] | None
    ) -> Outcome:
        """The outcome of a timed load that left ``found`` where ``data`` should be."""
        expected = expected_figures(data)
        return cls(clock.wall, clock.cpu, rows, found, expected, notes or [])


def table_figures(url: str, table: str) -> Figures:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(FIGURES_SQL.format(table)).fetchone()
    assert row is not None
    return dict(zip(FIGURES, (int(value or 0) for value in row), strict=True))


def settle(url: str) -> None:
    """Flush dirty pages before a timed load, so no load pays for the previous one's writes."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


@dataclass
class Clock:
    wall: float = 0.0  # seconds
    cpu: float = 0.0  # this process's CPU seconds, every thread


@contextlib.contextmanager
def stopwatch() -> Iterator[Clock]:
    """Yields a :class:`Clock` that holds the block's times once it is over."""
    clock = Clock()
    wall, cpu = time.perf_counter(), time.process_time()
    yield clock
    clock.wall, clock.cpu = time.perf_counter() - wall, time.process_time() - cpu


Strategy = Literal["keep", "rebuild"]


def sluiceway_append(
    url: str, table: str, data: pa.Table, strategy: Strategy = "keep"
) -> list[str]:
    """Open the warehouse, append ``data`` into ``bench.<table>``, close; the load's notes."""
    from pydantic import SecretStr

    from sluiceway.core.ids import new_id
    from sluiceway.core.names import TableRef
    from sluiceway.warehouses.base import LoadRequest, WarehouseContext
    from sluiceway.warehouses.postgres import PostgresSpec, PostgresWarehouse

    spec = PostgresSpec(type="postgres", connection=SecretStr(url), index_strategy=strategy)
    state = Path(tempfile.gettempdir())
    warehouse = PostgresWarehouse(spec, WarehouseContext(state, lambda path: state / path))
    marks = [time.perf_counter()]
    warehouse.open()
    marks.append(time.perf_counter())
    try:
        request = LoadRequest(
            load_id=new_id(),
            run_id=new_id(),
            pipeline="bench",
            source="orders",
            table=TableRef(table, SCHEMA),
            write="append",
            lineage=False,
        )
        with warehouse.begin(request) as load:
            load.stage(data.to_reader(max_chunksize=BATCH_ROWS))
            marks.append(time.perf_counter())
            load.commit([])
            marks.append(time.perf_counter())
        notes: list[str] = list(getattr(load, "notes", []))
    finally:
        warehouse.close()
    marks.append(time.perf_counter())
    steps = ("open", "begin + stage (COPY)", "commit", "close")
    gaps = [end - start for start, end in itertools.pairwise(marks)]
    spent = ", ".join(f"{step} {gap:.2f} s" for step, gap in zip(steps, gaps, strict=True))
    return [spent, *notes]


# -- the contenders (each runs in a child process) ------------------------------------------


def import_sluiceway() -> None:
    """Import what a load imports lazily: start-up is not timed, for any contender."""
    import pgpq
    import psycopg_pool

    import sluiceway.warehouses.postgres.load
    import sluiceway.warehouses.postgres.warehouse

    assert pgpq
    assert psycopg_pool
    assert sluiceway.warehouses.postgres.load


def run_sluiceway(child: Child) -> Outcome:
    data = orders(child.rows)
    import_sluiceway()
    settle(child.url)
    with stopwatch() as spent:
        notes = sluiceway_append(child.url, child.table, data)
    found = table_figures(child.url, f"{SCHEMA}.{child.table}")
    return Outcome.of(spent, rows=child.rows, found=found, data=data, notes=notes)


def run_raw_copy(child: Child) -> Outcome:
    import psycopg

    data = orders(child.rows)
    with stopwatch() as converting:
        rows = python_rows(data)
    settle(child.url)
    table = f"{SCHEMA}.{child.table}"
    with stopwatch() as spent, psycopg.connect(child.url) as conn:
        conn.execute(f"CREATE TABLE {table} ({COLUMNS})")
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY {table} FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(COPY_TYPES)
            for row in rows:
                copy.write_row(row)
    note = f"Arrow -> Python tuples (not timed): {converting.wall:.2f} s"
    found = table_figures(child.url, table)
    return Outcome.of(spent, rows=child.rows, found=found, data=data, notes=[note])


def run_executemany(child: Child) -> Outcome:
    import psycopg

    data = orders(child.rows).slice(0, child.sample)
    rows = python_rows(data)
    settle(child.url)
    table = f"{SCHEMA}.{child.table}"
    with stopwatch() as spent, psycopg.connect(child.url) as conn:
        conn.execute(f"CREATE TABLE {table} ({COLUMNS})")
        with conn.cursor() as cursor:
            for start in range(0, len(rows), INSERT_BATCH):
                cursor.executemany(INSERT.format(table), rows[start : start + INSERT_BATCH])
    found = table_figures(child.url, table)
    return Outcome.of(spent, rows=data.num_rows, found=found, data=data, notes=None)


def run_pandas(child: Child) -> Outcome:
    import sqlalchemy

    data = orders(child.rows).slice(0, child.sample)
    frame = data.to_pandas()
    url = child.url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sqlalchemy.create_engine(url)
    settle(child.url)
    with stopwatch() as spent:
        frame.to_sql(
            child.table, engine, schema=SCHEMA, index=False, method="multi", chunksize=INSERT_BATCH
        )
    engine.dispose()
    found = table_figures(child.url, f"{SCHEMA}.{child.table}")
    return Outcome.of(spent, rows=data.num_rows, found=found, data=data, notes=None)


def with_password(url: str) -> str:
    """dlt refuses credentials without a password; under ``trust`` any password will do."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is not None or parts.username is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace("@", ":unused@", 1)))


def dlt_runner(file_format: Literal["parquet"] | None) -> Callable[[Child], Outcome]:
    """dlt into its own dataset: its default file format (None), or ``file_format``."""

    def run(child: Child) -> Outcome:
        os.environ["RUNTIME__LOG_LEVEL"] = "ERROR"
        import dlt

        data = orders(child.rows)
        dataset = child.table
        with tempfile.TemporaryDirectory(prefix="bench-dlt-") as folder:
            os.chdir(folder)
            pipeline = dlt.pipeline(
                pipeline_name=dataset,
                destination=dlt.destinations.postgres(credentials=with_password(child.url)),
                dataset_name=dataset,
                pipelines_dir=folder,
            )
            # Untimed: dlt's dataset, its bookkeeping tables and the pipeline's state.
            warmup = dlt.resource([data.slice(0, 1)], name="warmup")
            # Any: dlt's Literal of formats has no None, which means "its default" here.
            chosen: Any = file_format
            pipeline.run(warmup, loader_file_format=chosen)
            settle(child.url)
            with stopwatch() as spent:
                info = pipeline.run(
                    dlt.resource([data], name="orders"),
                    loader_file_format=chosen,
                )
            used = sorted(
                {
                    job.job_file_info.file_format
                    for package in info.load_packages
                    for job in package.jobs["completed_jobs"]
                    if job.job_file_info.table_name == "orders"
                }
            )
        notes = [f"dlt loaded {', '.join(used)} file(s)"]
        found = table_figures(child.url, f"{dataset}.orders")
        return Outcome.of(spent, rows=child.rows, found=found, data=data, notes=notes)

    return run


def index_runner(strategy: Strategy) -> Callable[[Child], Outcome]:
    """N rows and three secondary indexes (untimed), then N more rows appended (timed)."""

    def run(child: Child) -> Outcome:
        import psycopg

        table = child.table
        first, more = orders(child.rows), orders(child.rows, first_id=child.rows + 1)
        import_sluiceway()
        sluiceway_append(child.url, table, first)
        with psycopg.connect(child.url, autocommit=True) as conn:
            for columns in ("customer_id", "created_at", "status, order_date"):
                conn.execute(f"CREATE INDEX ON {SCHEMA}.{table} ({columns})")
            conn.execute(f"VACUUM ANALYZE {SCHEMA}.{table}")
        settle(child.url)
        with stopwatch() as spent:
            notes = sluiceway_append(child.url, table, more, strategy)
        found = table_figures(child.url, f"{SCHEMA}.{table}")
        both = pa.concat_tables([first, more])
        return Outcome.of(spent, rows=child.rows, found=found, data=both, notes=notes)

    return run


@dataclass(frozen=True)
class Contender:
    run: Callable[[Child], Outcome]
    how: str
    sampled: bool = False  # loads --sample rows; rows/s extrapolated to --rows
    repeated: bool = False  # a fast path: --repeat runs, the median counts


CONTENDERS: dict[str, Contender] = {
    "sluiceway": Contender(
        run_sluiceway, "postgres warehouse, append: pgpq binary COPY", repeated=True
    ),
    "raw_copy": Contender(
        run_raw_copy, "THE LIMIT: psycopg 3 COPY BINARY, write_row per tuple", repeated=True
    ),
    "executemany": Contender(
        run_executemany, "psycopg 3 executemany INSERT, 1,000 rows a call", sampled=True
    ),
    "pandas": Contender(
        run_pandas, "DataFrame.to_sql(method='multi', chunksize=1000), psycopg 3", sampled=True
    ),
    "dlt_default": Contender(dlt_runner(None), "dlt, Arrow table, defaults: csv, COPY CSV"),
    "dlt_parquet": Contender(
        dlt_runner("parquet"), "dlt, loader_file_format='parquet' (ADBC)", repeated=True
    ),
    "index_keep": Contender(index_runner("keep"), "N rows + 3 indexes, append N: keep"),
    "index_rebuild": Contender(index_runner("rebuild"), "the same, index_strategy: rebuild"),
}
DLT_PATHS = ("dlt_default", "dlt_parquet")


def child_main(child: Child) -> int:
    outcome = CONTENDERS[child.name].run(child)
    print(json.dumps(outcome.__dict__))
    return 0


# -- the parent -----------------------------------------------------------------------------


@dataclass
class Result:
    """A contender's runs (one, or ``--repeat`` for the fast paths) and what went wrong."""

    name: str
    contender: Contender
    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # failures and mismatches

    @property
    def ok(self) -> bool:
        return bool(self.outcomes) and not self.problems

    @property
    def seconds(self) -> float:
        """The median wall time of the timed load."""
        return statistics.median(outcome.seconds for outcome in self.outcomes)

    @property
    def cpu_seconds(self) -> float:
        return statistics.median(outcome.cpu_seconds for outcome in self.outcomes)

    @property
    def rows(self) -> int:
        return self.outcomes[0].rows

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


def measure(result: Result, url: str, child: Child, label: str) -> None:
    """Run one contender once in its own process; check the table it left."""
    argv = [sys.executable, __file__, "--child", child.name, "--url", url]
    argv += ["--rows", str(child.rows), "--sample", str(child.sample)]
    argv += ["--attempt", str(child.attempt)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    name = f"{child.name:<14} {label:>5}"
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        print(f"{name} FAILED:\n{tail}", flush=True)
        result.problems.append(f"failed (exit {done.returncode})")
        return
    outcome = Outcome(**json.loads(done.stdout.strip().splitlines()[-1]))
    wrong = [
        f"{key}: expected {outcome.expected[key]:,}, found {outcome.figures[key]:,}"
        for key in FIGURES
        if outcome.figures[key] != outcome.expected[key]
    ]
    if wrong:
        result.problems.append("MISMATCH: " + "; ".join(wrong))
    result.outcomes.append(outcome)
    verdict = (
        result.problems[-1] if wrong else f"checked: {outcome.figures['rows']:,} rows, sums equal"
    )
    scope = f" (sample of {outcome.rows:,} rows)" if result.contender.sampled else ""
    timing = f"{outcome.seconds:8.2f} s {outcome.rows / outcome.seconds:>12,.0f} rows/s{scope}"
    print(f"{name} {timing}  {verdict}", flush=True)
    for note in outcome.notes:
        print(f"{'':<20} {note}")


def measure_all(
    url: str, names: list[str], rows: int, sample: int, repeat: int
) -> dict[str, Result]:
    """The fast paths in ``repeat`` interleaved rounds (their median counts), then the slow
    ones once each."""
    results = {name: Result(name, CONTENDERS[name]) for name in names}
    repeated = [name for name in names if CONTENDERS[name].repeated]
    for attempt in range(1, repeat + 1):
        for name in repeated:
            measure(
                results[name], url, Child(name, url, rows, sample, attempt), f"{attempt}/{repeat}"
            )
    for name in names:
        if name not in repeated:
            measure(results[name], url, Child(name, url, rows, sample, 1), "1/1")
    return results


def load_average() -> str:
    """The 1/5/15-minute load: other processes share the CPUs and the disk."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


@contextlib.contextmanager
def throwaway_database(server: str) -> Iterator[str]:
    """A new database (its URL), with the bench schema and Sluiceway's bookkeeping; dropped
    afterwards whatever happens."""
    import psycopg

    name = f"sluiceway_bench_{os.getpid()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = f"{server}/{name}"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {SCHEMA}")
        # Sluiceway's bookkeeping tables, created once as in any warehouse in use.
        sluiceway_append(url, "warmup", orders(1))
        yield url
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def server_facts(server: str) -> str:
    import psycopg

    with psycopg.connect(f"{server}/postgres") as conn:
        facts = [str(conn.execute("SHOW server_version").fetchone()[0])]  # type: ignore[index]
        for setting in ("shared_buffers", "max_wal_size", "synchronous_commit", "wal_level"):
            value = conn.execute(f"SHOW {setting}").fetchone()[0]  # type: ignore[index]
            facts.append(f"{setting}={value}")
    return "PostgreSQL " + ", ".join(facts)


def report(results: dict[str, Result], rows: int, repeat: int) -> None:
    from rich.console import Console
    from rich.table import Table

    limit, ours = results["raw_copy"], results["sluiceway"]
    title = f"{rows:,} rows into PostgreSQL (fast paths: median of {repeat} runs; others: 1)"
    table = Table(title=title, title_justify="left")
    for column in ("contender", "runs", "seconds", "rows/s", "x limit", "sluiceway x", "cpu s"):
        table.add_column(column, justify="left" if column == "contender" else "right")
    table.add_column("how")
    for name, result in results.items():
        if not result.ok:
            table.add_row(name, str(len(result.outcomes)), *"-----", "; ".join(result.problems))
            continue
        rate = result.rows_per_s
        scale = rows / result.rows  # 1, or how much larger N is than the sample
        seconds, cpu = result.seconds * scale, result.cpu_seconds * scale
        sampled = result.contender.sampled
        how = result.contender.how
        if sampled:
            how += f" [{result.rows:,}-row sample, extrapolated]"
        table.add_row(
            name,
            str(len(result.outcomes)),
            f"~{seconds:,.1f}" if sampled else f"{seconds:,.2f}",
            f"{rate:,.0f}",
            ratio_text(rate / limit.rows_per_s if limit.ok else None),
            ratio_text(ours.rows_per_s / rate if ours.ok else None),
            f"~{cpu:,.1f}" if sampled else f"{cpu:,.2f}",
            how,
        )
    console = Console() if sys.stdout.isatty() else Console(width=160)
    console.print(table)
    print(
        "seconds: the timed load of N rows (~: extrapolated from the sample); x limit: rows/s "
        "over raw_copy's; sluiceway x: Sluiceway's rows/s over the contender's; cpu s: the "
        "client process's CPU during the load (all threads; the server's is not counted)"
    )


def ratio_text(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}" if value >= 0.1 else f"{value:.3f}"


def ratio(results: dict[str, Result], ours: str, theirs: str) -> float | None:
    """``ours``'s rows/s over ``theirs``'s, if both loaded what they should."""
    a, b = results.get(ours), results.get(theirs)
    if a is None or b is None or not a.ok or not b.ok:
        return None
    return a.rows_per_s / b.rows_per_s


def dlt_fastest(results: dict[str, Result]) -> str:
    """The faster of dlt's paths that loaded correctly (the parquet one if neither did)."""
    fine = [name for name in DLT_PATHS if name in results and results[name].ok]
    return max(fine, key=lambda name: results[name].rows_per_s, default="dlt_parquet")


def target_lines(results: dict[str, Result]) -> list[str]:
    """The ``target`` lines; Sluiceway misses every target while its figures are wrong."""
    lines = []
    for target, peer, goal, bound, inclusive in (
        ("postgres_vs_raw_copy", "raw_copy", ">= 0.8", 0.8, True),
        ("postgres_vs_dlt_fastest", dlt_fastest(results), "> 1.0", 1.0, False),
        ("postgres_vs_dlt_default", "dlt_default", ">= 5", 5.0, True),
        ("postgres_vs_pandas", "pandas", ">= 50", 50.0, True),
    ):
        value = ratio(results, "sluiceway", peer)
        if value is None:
            lines.append(f"target {target}: n/a (goal {goal}) missed")
            continue
        met = value >= bound if inclusive else value > bound
        lines.append(f"target {target}: {value:.2f} (goal {goal}) {'met' if met else 'missed'}")
    return lines


def summary_lines(results: dict[str, Result]) -> list[str]:
    lines = []
    fastest = dlt_fastest(results)
    if fastest in results and results[fastest].ok:
        lines.append(f"dlt's fastest path in this run: {fastest} (postgres_vs_dlt_fastest)")
    ours = results.get("sluiceway")
    if ours is not None and ours.ok and len(ours.outcomes) > 1:
        spread = sorted(outcome.seconds for outcome in ours.outcomes)
        limit = results.get("raw_copy")
        others = sorted(o.seconds for o in limit.outcomes) if limit and limit.ok else []
        lines.append(
            "runs' seconds (spread: other processes share this machine): sluiceway "
            + ", ".join(f"{value:.2f}" for value in spread)
            + "; raw_copy "
            + ", ".join(f"{value:.2f}" for value in others)
        )
    rebuild = ratio(results, "index_rebuild", "index_keep")
    if rebuild is not None:
        keep_s, rebuild_s = (results[n].seconds for n in ("index_keep", "index_rebuild"))
        lines.append(
            f"index_strategy: keep {keep_s:.2f} s, rebuild {rebuild_s:.2f} s: rebuild has "
            f"{rebuild:.2f}x keep's rows/s (N rows appended to N rows with 3 secondary indexes)"
        )
    copy_vs_insert = ratio(results, "sluiceway", "executemany")
    if copy_vs_insert is not None:
        lines.append(f"COPY (sluiceway) vs INSERT (executemany): {copy_vs_insert:.1f}x the rows/s")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--sample", type=int, default=100_000, help="rows for the slow paths")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each fast path")
    parser.add_argument("--url", default=DEFAULT_URL, help="the server, without a database")
    parser.add_argument("--only", nargs="*", choices=list(CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=list(CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--attempt", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(Child(args.child, args.url, args.rows, args.sample, args.attempt))
    if args.rows < 1000 or args.repeat < 1:
        parser.error("--rows must be at least 1000, --repeat at least 1")
    sample = min(args.sample, args.rows)
    server = args.url.rstrip("/")
    print(
        f"postgres_load: {args.rows:,} Arrow rows (8 columns, seed {SEED}); the fast paths "
        f"(sluiceway, raw_copy, dlt_parquet) run {args.repeat} times, the median counts; the "
        f"others once; executemany and pandas load a {sample:,}-row sample, extrapolated"
    )
    try:
        facts = server_facts(server)
    except Exception as exc:  # psycopg's OperationalError: no server there
        print(f"postgres_load: cannot reach PostgreSQL at {server}: {str(exc).strip()}")
        print("start it, or point --url (or BENCH_POSTGRES_URL) at a server (a superuser)")
        for line in target_lines({}):
            print(line)
        return 1
    print(f"{facts}; this machine: {os.cpu_count()} CPUs, shared by the client and the server")
    print(f"load average before: {load_average()}", flush=True)
    names = args.only or list(CONTENDERS)
    with throwaway_database(server) as url:
        results = measure_all(url, names, args.rows, sample, args.repeat)
    print(f"load average after: {load_average()}")
    print()
    if {"sluiceway", "raw_copy"} <= results.keys():
        report(results, args.rows, args.repeat)
    for line in summary_lines(results):
        print(line)
    wrong = sorted(name for name, result in results.items() if not result.ok)
    if wrong:
        print(f"FAILED: {', '.join(wrong)} (see above): a failed or wrong load is not a result")
    for line in target_lines(results):
        print(line)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
