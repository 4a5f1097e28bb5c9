"""Pipelines into the PostgreSQL warehouse, when the server misbehaves: the load's connection
killed mid-COPY is retried from the source with backoff and loads every row exactly once;
a wrong password fails clearly without ever showing the password."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from sluiceway.core.errors import ConfigError
from sluiceway.core.events import Event, EventBus, EventKind
from sluiceway.core.status import RunStatus
from sluiceway.engine.registry import Registry
from sluiceway.engine.runner import PipelineRunner
from sluiceway.warehouses.postgres.connection import TRANSIENT_STATES
from tests.conftest import WritePipeline

pytestmark = pytest.mark.integration

ROWS = 20_000


def _pipeline(write_pipeline: WritePipeline, project: Path, *, write: str = "append") -> Path:
    lines = ["id,name,amount"] + [f"{i},n{i},{i * 0.5}" for i in range(ROWS)]
    (project / "orders.csv").write_text("\n".join(lines) + "\n")
    return write_pipeline(
        f"""
        pipeline: pgload
        quality: {{profile: false}}
        warehouse:
          type: postgres
          connection: ${{SLUICEWAY_TEST_PG}}
          retry: {{attempts: 4, base_delay: 2s, max_delay: 8s}}
        sources:
          orders:
            type: csv
            path: orders.csv
            table: bronze.orders
            write: {write}
            primary_key: [id]
            batch_size: 1000
        """
    )


@pytest.fixture
def pg_dsn(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
    monkeypatch.setenv("SLUICEWAY_TEST_PG", dsn)
    return dsn


class KillMidCopy:
    """On the first attempt, after some batches went into COPY, terminate the load's backend
    from another session (what a failover or an admin does)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.killed: list[int] = []

    def __call__(self, event: Event) -> None:
        if self.killed or event.kind is not EventKind.BATCH_STAGED:
            return
        if int(event.data.get("batch", 0)) < 5:
            return
        with psycopg.connect(self.dsn, autocommit=True) as admin:
            rows = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND query LIKE 'COPY%%' AND pid <> pg_backend_pid()"
            ).fetchall()
            for (pid,) in rows:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
                self.killed.append(int(pid))


@pytest.mark.parametrize("write", ["append", "merge"])
def test_a_connection_killed_mid_copy_is_retried_and_nothing_is_duplicated(
    project: Path,
    registry: Registry,
    write_pipeline: WritePipeline,
    pg_dsn: str,
    write: str,
) -> None:
    path = _pipeline(write_pipeline, project, write=write)
    bus = EventBus()
    killer = KillMidCopy(pg_dsn)
    bus.subscribe(killer)
    waits: list[float] = []
    runner = PipelineRunner(registry.load(path), registry=registry, bus=bus, sleep=waits.append)
    result = runner.run()

    assert killer.killed, "the load's COPY was never seen running"
    assert result.status is RunStatus.SUCCEEDED, [s.error for s in result.steps]
    (step,) = result.steps
    assert step.attempts == 2
    assert len(waits) == 1
    assert 0 <= waits[0] <= 2.0  # the first backoff is capped by base_delay
    with psycopg.connect(pg_dsn) as conn:
        total, distinct, loads = conn.execute(
            "SELECT count(*), count(DISTINCT id), "
            "(SELECT count(*) FROM _sluiceway.loads) FROM bronze.orders"
        ).fetchone() or (0, 0, 0)
    assert (total, distinct, loads) == (ROWS, ROWS, 1)


def test_the_backend_kill_is_a_transient_sqlstate() -> None:
    # pg_terminate_backend answers 57P01 (admin_shutdown) when the server still can.
    assert "57P01" in TRANSIENT_STATES


@pytest.mark.parametrize(
    ("where", "shown"),
    [
        # A port nothing listens on: the URL (password included) reaches libpq and its error.
        ("127.0.0.1:1/x", "127.0.0.1:1"),
        # The shared server trusts local connections (any password passes), so the refusal it
        # can give is for a role that does not exist.
        ("127.0.0.1:5432/postgres", "role may not log in"),
    ],
)
def test_a_failed_connection_is_clear_and_never_shows_the_password(
    project: Path,
    registry: Registry,
    write_pipeline: WritePipeline,
    pg_dsn: str,
    *,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    shown: str,
) -> None:
    secret = "Sw0rdfish-not-for-logs"
    monkeypatch.setenv("SLUICEWAY_TEST_PG", f"postgresql://no_such_role:{secret}@{where}")
    path = _pipeline(write_pipeline, project)
    runner = PipelineRunner(
        registry.load(path), registry=registry, bus=EventBus(), sleep=lambda _: None
    )
    result = runner.run()
    assert result.status is RunStatus.FAILED
    assert result.error is not None
    message = f"{result.error} {getattr(result.error, 'hint', '')}"
    assert shown in message
    assert secret not in message
    assert secret not in repr(result.as_dict())


def test_a_malformed_connection_string_is_a_config_error_without_its_text(
    project: Path,
    registry: Registry,
    write_pipeline: WritePipeline,
    pg_dsn: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLUICEWAY_TEST_PG", "host=x password='unterminated-secret")
    path = _pipeline(write_pipeline, project)
    result = PipelineRunner(registry.load(path), registry=registry, bus=EventBus()).run()
    assert isinstance(result.error, ConfigError)
    assert "unterminated-secret" not in str(result.error)
