"""The metadata store against the real PostgreSQL on 127.0.0.1:5432.

Each test gets a database of its own, created with a unique name and dropped afterwards. The
database's time zone is set away from UTC, so that the tests see what a team's server in another
zone would hand back.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from sluiceway.core.errors import ErrorClass, MetaStoreError, NotFoundError
from sluiceway.core.status import RunStatus, StepStatus
from sluiceway.meta import MetaStore, migrate
from sluiceway.meta.migrate import HEAD_REVISION, schema_revisions
from sluiceway.meta.tables import metadata

pytestmark = pytest.mark.integration

RUN_A = "01JAAAAAAAAAAAAAAAAAAAAAA1"
RUN_B = "01JAAAAAAAAAAAAAAAAAAAAAB2"


@pytest.fixture
def store(pg_url: str) -> Iterator[MetaStore]:
    with MetaStore.open(pg_url) as opened:
        yield opened


def test_runs_and_steps_round_trip(store: MetaStore) -> None:
    started = datetime(2025, 7, 1, 14, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    store.start_run(RUN_A, "orders", started_at=started, details={"files": ["a.csv"]})
    store.start_step(RUN_A, "extract", kind="extract", target="raw.orders")
    store.update_step(RUN_A, "extract", rows_in=7)
    assert store.list_steps(RUN_A)[0].rows_in == 7
    store.finish_step(
        RUN_A,
        "extract",
        StepStatus.SUCCEEDED,
        rows_in=10,
        rows_out=9,
        rows_rejected=1,
        bytes_in=3_000_000_000,  # past 32 bits
        load_id="01JLOAD",
    )
    store.finish_run(
        RUN_A,
        RunStatus.FAILED,
        rows_in=10,
        rows_out=9,
        rows_rejected=1,
        error_class=ErrorClass.DATA,
        error_message="one row broke the contract",
    )

    run = store.get_run(RUN_A)
    assert run.started_at == started
    assert run.started_at.tzinfo is UTC
    assert run.finished_at is not None
    assert run.finished_at.tzinfo is UTC
    assert (run.status, run.error_class, run.rows_rejected) == (
        RunStatus.FAILED,
        ErrorClass.DATA,
        1,
    )
    assert run.details == {"files": ["a.csv"]}
    (step,) = store.list_steps(RUN_A)
    assert (step.status, step.bytes_in, step.load_id) == (
        StepStatus.SUCCEEDED,
        3_000_000_000,
        "01JLOAD",
    )
    assert step.started_at.tzinfo is UTC
    assert step.duration_s is not None


def test_lookups_by_prefix(store: MetaStore) -> None:
    store.start_run(RUN_A, "orders")
    store.start_run(RUN_B, "customers")
    assert store.get_run("01jaaaaaaaaaaaaaaaaaaaaab").run_id == RUN_B
    with pytest.raises(NotFoundError) as caught:
        store.get_run("01JA")
    assert RUN_A in str(caught.value)
    assert RUN_B in str(caught.value)
    with pytest.raises(NotFoundError, match="sluiceway runs"):
        store.get_run("01JZZZ")
    assert [r.run_id for r in store.list_runs(pipeline="customers")] == [RUN_B]


def test_duplicates_leave_the_store_usable(store: MetaStore) -> None:
    store.start_run(RUN_A, "orders")
    with pytest.raises(MetaStoreError, match="already recorded"):
        store.start_run(RUN_A, "orders")
    with pytest.raises(NotFoundError):
        store.start_step(RUN_B, "extract", kind="extract")
    assert store.get_run(RUN_A).status is RunStatus.RUNNING


def test_the_migrations_build_the_schema_of_tables_py(pg_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from sluiceway.meta import migrate
    from sluiceway.meta.engines import create_meta_engine

    engine = create_meta_engine(pg_url)
    try:
        migrate._upgrade(engine, pg_url)
        with engine.connect() as connection:
            assert schema_revisions(connection) == {HEAD_REVISION}
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    finally:
        engine.dispose()


def test_a_fresh_database_reaches_head_and_matches_the_tables(store: MetaStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as connection:
        assert schema_revisions(connection) == {HEAD_REVISION}
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []


def test_reopening_is_a_no_op(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    MetaStore.open(pg_url).close()

    def refuse(*_args: object) -> None:
        raise AssertionError("a current store must not be migrated again")

    monkeypatch.setattr(migrate, "_upgrade", refuse)
    MetaStore.open(pg_url).close()


def test_concurrent_first_opens_migrate_once(pg_url: str) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        stores = list(pool.map(lambda _: MetaStore.open(pg_url), range(4)))
    for opened in stores:
        opened.close()
    with MetaStore.open(pg_url) as store, store.engine.connect() as connection:
        assert schema_revisions(connection) == {HEAD_REVISION}


def test_a_database_from_a_newer_sluiceway_is_refused(pg_url: str) -> None:
    MetaStore.open(pg_url).close()
    engine = create_engine(pg_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(MetaStoreError, match="newer Sluiceway") as caught:
            MetaStore.open(pg_url)
        assert "upgrade" in str(caught.value)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [
                ("9999",)
            ]
    finally:
        engine.dispose()


def test_dead_processes_are_reaped(store: MetaStore) -> None:
    import subprocess
    import sys

    doomed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    store.start_run(RUN_A, "orders", pid=doomed.pid)
    store.start_step(RUN_A, "extract", kind="extract")
    store.start_run(RUN_B, "orders")
    doomed.kill()
    doomed.wait()
    assert store.reap_abandoned() == [RUN_A]
    assert store.get_run(RUN_A).error_class is ErrorClass.TERMINAL
    assert store.list_steps(RUN_A)[0].status is StepStatus.FAILED
    assert store.get_run(RUN_B).status is RunStatus.RUNNING
