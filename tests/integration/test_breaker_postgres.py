"""Circuit breakers and foreign-key ordering against real databases.

- A private PostgreSQL cluster is stopped in the middle of a run: the step in flight fails with
  a transient error, the breaker of the server opens after ``failures`` tries in all (no retry
  storm), the steps left on that server are blocked without being tried, one alert is raised,
  the breaker is kept in the metadata store, and the next run blocks every step on the server
  without connecting to it. No message shows the connection's password.
- Foreign keys read from the PostgreSQL and MySQL catalogs order the loads; turned off, they do
  not; a catalog that cannot be read leaves a note and the plan goes on.
"""

from __future__ import annotations

import json
import random
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from psycopg import sql

from sluiceway.core.errors import CircuitOpenError, ErrorClass, SourceUnavailableError, classify
from sluiceway.core.events import Event, EventBus, EventKind
from sluiceway.core.status import RunStatus, StepStatus
from sluiceway.engine.breakers import CircuitBreakers
from sluiceway.engine.dag import Dag
from sluiceway.engine.registry import Registry
from sluiceway.engine.runner import PipelineRunner, RunResult, error_text
from sluiceway.meta.control import MetaBreakerStore
from sluiceway.meta.store import MetaStore
from sluiceway.observe.meta_recorder import MetaRecorder
from tests.conftest import WritePipeline, service_unavailable
from tests.integration.mysql_fixtures import (  # noqa: F401 (fixtures)
    MySqlDatabase,
    mysql_db_fixture,
    mysql_server_fixture,
)
from tests.integration.pg_logical import (
    ClusterUnavailable,
    PrivateCluster,
    _run,
    start_cluster,
)

pytestmark = pytest.mark.integration

# A made-up password that must never be printed. The private cluster trusts local connections,
# so the server never checks it, but it is in every connection string the pipeline holds.
PASSWORD = "pw-Kx82bQ7z"
ROWS = 50_000
TABLES = ("a", "b", "c", "d")


class Clock:
    """Wall time the breakers read; it does not move unless a test moves it."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Timeline:
    """Events and connection attempts to one port, in the order they happened.

    Subscribe it to the bus, and put :meth:`wrap` around ``psycopg.connect``.
    """

    port: int
    entries: list[tuple[str, str | None]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self.entries.append((event.kind.value, event.step))

    def wrap(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def connect(*args: Any, **kwargs: Any) -> Any:
            if str(kwargs.get("port")) == str(self.port):
                self.entries.append(("connect", None))
            return real(*args, **kwargs)

        return connect

    def mark(self, what: str) -> None:
        self.entries.append((what, None))

    def connects(self, *, after: tuple[str, str | None] | None = None) -> int:
        start = self.entries.index(after) if after is not None else 0
        return sum(1 for kind, _ in self.entries[start:] if kind == "connect")

    def of(self, kind: EventKind) -> list[Event]:
        return [e for e in self.events if e.kind is kind]


@pytest.fixture
def store(project: Path) -> Iterator[MetaStore]:
    with MetaStore.for_state_dir(project / ".sluiceway") as opened:
        yield opened


@pytest.fixture
def tcp_cluster() -> Iterator[PrivateCluster]:
    """A private cluster that also listens on 127.0.0.1 (a URL names a host and a port, so
    the source's endpoint is ``postgres://127.0.0.1:PORT/DB``)."""
    try:
        cluster = start_cluster(wal_level="replica", plugins=())
    except ClusterUnavailable as exc:
        service_unavailable(f"cannot start a private PostgreSQL cluster: {exc}")
    try:
        with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
            admin.execute("ALTER SYSTEM SET listen_addresses = '127.0.0.1'")
        pg_ctl = str(cluster.bindir / "pg_ctl")
        log = str(cluster.root / "server.log")
        _run([pg_ctl, "-D", str(cluster.data), "-l", log, "-w", "-m", "fast", "restart"])
    except (ClusterUnavailable, psycopg.Error) as exc:
        cluster.stop()
        service_unavailable(f"cannot restart the private cluster on 127.0.0.1: {exc}")
    yield cluster
    cluster.stop()


def create_shop(cluster: PrivateCluster) -> None:
    """Database ``shop`` with tables a, b, c, d of ``ROWS`` rows each."""
    with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE shop")
    with psycopg.connect(cluster.dsn("shop"), autocommit=True) as conn:
        for table in TABLES:
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} AS SELECT g::bigint AS id, md5(g::text) AS payload, "
                    "(g % 1000)::numeric(10, 2) AS amount FROM generate_series(1, {}) AS g"
                ).format(sql.Identifier(table), sql.Literal(ROWS))
            )


def run(
    path: Path,
    *,
    store: MetaStore,
    clock: Clock,
    sleeps: list[float],
    subscribers: list[Callable[[Event], None]],
) -> tuple[RunResult, Dag]:
    registry = Registry()
    pipeline = registry.load(path)
    bus = EventBus()
    for subscriber in subscribers:
        bus.subscribe(subscriber)
    bus.subscribe(MetaRecorder(store))
    breakers = CircuitBreakers(
        MetaBreakerStore(store), pipeline.spec.execution.breaker, clock=clock
    )
    runner = PipelineRunner(
        pipeline,
        registry=registry,
        bus=bus,
        sleep=sleeps.append,
        breakers=breakers,
        rng=random.Random(7),
    )
    result = runner.run()
    assert bus.errors == []  # every subscriber (the one that stops the server too) worked
    assert runner.dag is not None
    return result, runner.dag


def statuses(result: RunResult) -> dict[str, StepStatus]:
    return {s.name: s.status for s in result.steps}


def all_text(result: RunResult, dag: Dag, timeline: Timeline, store: MetaStore) -> str:
    """Everything a user could be shown about a run: errors, events, notes, records."""
    parts = [error_text(s.error) for s in result.steps if s.error is not None]
    parts += [json.dumps(e.data, default=str) for e in timeline.events]
    parts += dag.notes
    parts += [repr(r) for r in store.list_steps(result.run_id)]
    parts += [repr(r) for r in MetaBreakerStore(store).all()]
    return "\n".join(parts)


# -- a server that goes away in the middle of a run ------------------------------------------


def down_pipeline(write_pipeline: WritePipeline) -> Path:
    """The four tables of ``$SHOP_DB`` (a URL with a password: written as a variable)."""
    sources = "\n".join(
        f"  {t}: {{type: postgres, connection: '${{SHOP_DB}}', source_table: {t}}}" for t in TABLES
    )
    return write_pipeline(
        "pipeline: pgdown\n"
        "quality: {profile: false}\n"
        "defaults: {batch_size: 1000}\n"
        "execution:\n"
        "  max_workers: 1\n"
        "  retry: {attempts: 6, base_delay: 1s}\n"
        "  breaker: {failures: 3, cooldown: 10m}\n"
        f"sources:\n{sources}\n"
    )


class StopServerDuringStep:
    """On the first batch the step ``step`` stages, stop the cluster (``pg_ctl stop -m
    immediate``: every backend ends at once, the step's open cursor with them)."""

    def __init__(self, cluster: PrivateCluster, timeline: Timeline, step: str) -> None:
        self.cluster = cluster
        self.timeline = timeline
        self.step = step
        self.stopped_at_batch: int | None = None

    def __call__(self, event: Event) -> None:
        if self.stopped_at_batch is not None or event.kind is not EventKind.BATCH_STAGED:
            return
        if event.step != self.step:
            return
        self.cluster.stop()
        self.stopped_at_batch = int(event.data["batch"])
        self.timeline.mark("server_stopped")


def test_a_server_that_goes_away_mid_run_opens_its_breaker_without_a_retry_storm(
    project: Path,
    write_pipeline: WritePipeline,
    store: MetaStore,
    tcp_cluster: PrivateCluster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    create_shop(tcp_cluster)
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{tcp_cluster.port}/shop"
    monkeypatch.setenv("SHOP_DB", url)
    path = down_pipeline(write_pipeline)
    endpoint = f"postgres://127.0.0.1:{tcp_cluster.port}/shop"
    real_connect = psycopg.connect
    timeline = Timeline(tcp_cluster.port)
    monkeypatch.setattr(psycopg, "connect", timeline.wrap(real_connect))
    killer = StopServerDuringStep(tcp_cluster, timeline, "b")
    clock = Clock()
    sleeps: list[float] = []
    result, dag = run(path, store=store, clock=clock, sleeps=sleeps, subscribers=[timeline, killer])

    assert dag.order() == list(TABLES)
    assert killer.stopped_at_batch == 1
    assert statuses(result) == {
        "a": StepStatus.SUCCEEDED,
        "b": StepStatus.FAILED,
        "c": StepStatus.BLOCKED,
        "d": StepStatus.BLOCKED,
    }
    assert result.status is RunStatus.FAILED
    # The step in flight: a transient error, tried `failures` times in all (not 6), two
    # backoffs; after the server went away, only its two reconnects reached for it.
    in_flight = result.steps[1]
    assert isinstance(in_flight.error, SourceUnavailableError)
    assert classify(in_flight.error) is ErrorClass.TRANSIENT
    assert in_flight.attempts == 3
    assert len(sleeps) == 2
    assert timeline.connects(after=("server_stopped", None)) == 2
    # The breaker opened once; nothing reached for the server after that.
    opened = timeline.of(EventKind.CIRCUIT_OPENED)
    assert [(e.step, e.data["endpoint"], e.data["failures"]) for e in opened] == [
        ("b", endpoint, 3)
    ]
    assert timeline.connects(after=("circuit_opened", "b")) == 0
    started = [e.step for e in timeline.of(EventKind.STEP_STARTED)]
    assert started == ["a", "b", "b", "b"]  # c and d were never tried
    for blocked in result.steps[2:]:
        assert isinstance(blocked.error, CircuitOpenError)
        assert blocked.error.endpoint == endpoint
        assert blocked.attempts == 1
    record = MetaBreakerStore(store).get(endpoint)
    assert (record.state, record.failures, record.opened_at) == ("open", 3, clock.now)
    messages = [r.error_message or "" for r in store.list_steps(result.run_id)]
    assert messages[1].startswith(f"reading the rows on 127.0.0.1:{tcp_cluster.port}/shop failed")
    for message in messages[2:4]:  # the retries found no server
        assert message.startswith(f"cannot connect to PostgreSQL at 127.0.0.1:{tcp_cluster.port}")
    assert _recorded(store, result.run_id) == [
        ("a", 1, StepStatus.SUCCEEDED, None),
        ("b", 1, StepStatus.FAILED, ErrorClass.TRANSIENT),
        ("b", 2, StepStatus.FAILED, ErrorClass.TRANSIENT),
        ("b", 3, StepStatus.FAILED, ErrorClass.TRANSIENT),
        ("c", 1, StepStatus.BLOCKED, ErrorClass.TRANSIENT),
        ("d", 1, StepStatus.BLOCKED, ErrorClass.TRANSIENT),
    ]
    # What committed before the server went away stays.
    with duckdb.connect(str(project / ".sluiceway" / "warehouse.duckdb"), read_only=True) as dw:
        assert dw.execute("SELECT count(*), count(DISTINCT id) FROM a").fetchall() == [(ROWS, ROWS)]
        assert dw.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name <> 'a' AND schema_name = 'main'"
        ).fetchall() == [(0,)]
    assert PASSWORD not in all_text(result, dag, timeline, store)
    assert f"127.0.0.1:{tcp_cluster.port}/shop" in error_text(in_flight.error)

    # The next run, before the cooldown: every step on the server is blocked without a try.
    monkeypatch.setattr(psycopg, "connect", real_connect)
    assert_next_run_blocked_without_a_try(
        path, store=store, clock=clock, endpoint=endpoint, port=tcp_cluster.port
    )


def assert_next_run_blocked_without_a_try(
    path: Path, *, store: MetaStore, clock: Clock, endpoint: str, port: int
) -> None:
    """Another run, the breaker still open: no step on the endpoint starts, nothing connects
    to the server (not even the plan, for its catalog), no backoff, no second alert."""
    again = Timeline(port)
    sleeps: list[float] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(psycopg, "connect", again.wrap(psycopg.connect))
        second, second_dag = run(path, store=store, clock=clock, sleeps=sleeps, subscribers=[again])
    assert statuses(second) == dict.fromkeys(TABLES, StepStatus.BLOCKED)
    assert sleeps == []
    assert again.of(EventKind.STEP_STARTED) == []
    assert again.of(EventKind.CIRCUIT_OPENED) == []
    assert again.connects() == 0
    assert [n.split(" (", 1)[0] for n in second_dag.notes] == [
        f"{t}: foreign keys not read" for t in TABLES
    ]
    assert all(endpoint in note for note in second_dag.notes)
    assert all(isinstance(s.error, CircuitOpenError) for s in second.steps)
    assert MetaBreakerStore(store).get(endpoint).opened_at == clock.now
    assert PASSWORD not in all_text(second, second_dag, again, store)


def _recorded(
    store: MetaStore, run_id: str
) -> list[tuple[str, int, StepStatus, ErrorClass | None]]:
    return [(s.step, s.attempt, s.status, s.error_class) for s in store.list_steps(run_id)]


# -- foreign keys from the catalog order the loads -------------------------------------------

SHOP_TABLES = (
    "CREATE TABLE customers (id integer PRIMARY KEY, name varchar(20))",
    "CREATE TABLE orders (id integer PRIMARY KEY, "
    "customer_id integer NOT NULL REFERENCES customers (id))",
    "CREATE TABLE order_items (id integer PRIMARY KEY, "
    "order_id integer NOT NULL REFERENCES orders (id), qty integer)",
    "INSERT INTO customers VALUES (1, 'ada'), (2, 'bo')",
    "INSERT INTO orders VALUES (10, 1), (11, 2), (12, 2)",
    "INSERT INTO order_items VALUES (100, 10, 1), (101, 11, 2), (102, 12, 3), (103, 12, 4)",
)
# The file lists the sources in the wrong order: children first.
FILE_ORDER = ["items", "orders", "customers"]
LOAD_ORDER = ["customers", "orders", "items"]


def shop_pipeline(
    write_pipeline: WritePipeline,
    *,
    kind: str,
    discover: bool = True,
    extra: str = "",
) -> Path:
    """items, orders, customers of ``$SHOP_DB`` (set by the test), in that order."""
    tables = {"items": "order_items", "orders": "orders", "customers": "customers"}
    sources = "".join(
        f"  {name}: {{type: {kind}, connection: '${{SHOP_DB}}', source_table: {tables[name]}}}\n"
        for name in FILE_ORDER
    )
    return write_pipeline(
        "pipeline: shop\n"
        "quality: {profile: false}\n"
        f"execution: {{max_workers: 1, discover_foreign_keys: {str(discover).lower()}}}\n"
        f"sources:\n{sources}{extra}"
    )


def plan(path: Path) -> Dag:
    registry = Registry()
    return PipelineRunner(registry.load(path), registry=registry, bus=EventBus()).plan()


def edges(dag: Dag) -> set[tuple[str, str, str]]:
    return {(e.parent, e.child, e.reason) for e in dag.edges}


def assert_loads_in_fk_order(path: Path, *, schema: str) -> None:
    """The plan orders the loads by the catalog's foreign keys, and a run follows it."""
    dag = plan(path)
    assert dag.order() == LOAD_ORDER
    assert dag.levels() == [["customers"], ["orders"], ["items"]]
    assert edges(dag) == {
        ("customers", "orders", f"FK {schema}.customers"),
        ("orders", "items", f"FK {schema}.orders"),
    }
    assert dag.notes == []
    registry = Registry()
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(events.append)
    result = PipelineRunner(registry.load(path), registry=registry, bus=bus).run()
    assert result.status is RunStatus.SUCCEEDED
    assert [s.name for s in result.steps] == LOAD_ORDER
    started = [e.step for e in events if e.kind is EventKind.STEP_STARTED]
    committed = [e.step for e in events if e.kind is EventKind.LOAD_COMMITTED]
    assert started == committed == LOAD_ORDER
    assert [s.rows_loaded for s in result.steps] == [2, 3, 4]


@pytest.fixture
def pg_shop(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """This test's own database on the shared server, with the shop's tables; ``$SHOP_DB``."""
    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in SHOP_TABLES:
            conn.execute(statement)
    monkeypatch.setenv("SHOP_DB", pg_url)
    return pg_url


def test_postgres_foreign_keys_order_the_loads(
    project: Path, write_pipeline: WritePipeline, pg_shop: str
) -> None:
    assert_loads_in_fk_order(shop_pipeline(write_pipeline, kind="postgres"), schema="public")


def test_mysql_foreign_keys_order_the_loads(
    project: Path,
    write_pipeline: WritePipeline,
    mysql_db: MySqlDatabase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mysql_db.execute(*(f"{s} ENGINE=InnoDB" if s.startswith("CREATE") else s for s in SHOP_TABLES))
    monkeypatch.setenv("SHOP_DB", mysql_db.url)
    # MySQL's catalog names the database as the schema of the referenced table.
    assert_loads_in_fk_order(shop_pipeline(write_pipeline, kind="mysql"), schema=mysql_db.name)


def test_without_discovery_there_are_no_foreign_key_edges(
    project: Path,
    write_pipeline: WritePipeline,
    pg_shop: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = shop_pipeline(write_pipeline, kind="postgres", discover=False)
    connects: list[dict[str, Any]] = []
    real = psycopg.connect

    def connect(*args: Any, **kwargs: Any) -> Any:
        connects.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(psycopg, "connect", connect)
    dag = plan(path)
    assert dag.edges == []
    assert dag.order() == FILE_ORDER  # the file's order: nothing says otherwise
    assert dag.notes == []
    assert connects == []  # the catalog was not asked


def test_a_catalog_that_cannot_be_read_leaves_a_note_and_the_plan_goes_on(
    project: Path, write_pipeline: WritePipeline, pg_shop: str
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as dead:
        dead.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        port = int(dead.getsockname()[1])
        legacy = f"postgresql://loader:{PASSWORD}@127.0.0.1:{port}/legacy"
        path = shop_pipeline(
            write_pipeline,
            kind="postgres",
            extra="  legacy: {type: postgres, connection: '${LEGACY_DB}', source_table: t}\n",
        )
        with pytest.MonkeyPatch.context() as env:
            env.setenv("LEGACY_DB", legacy)
            dag = plan(path)
    # The live catalog's edges still count; legacy depends on nothing it could learn of.
    assert dag.levels() == [["customers", "legacy"], ["orders"], ["items"]]
    assert {reason for _, _, reason in edges(dag)} == {"FK public.customers", "FK public.orders"}
    assert len(dag.notes) == 1
    note = dag.notes[0]
    assert note.startswith(
        f"legacy: foreign keys not read (cannot connect to PostgreSQL at 127.0.0.1:{port}/legacy"
    )
    assert PASSWORD not in note
    assert "loader" not in note
