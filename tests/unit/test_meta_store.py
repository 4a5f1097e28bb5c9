"""The metadata store on SQLite: records, lookups, migrations, concurrency, dead processes."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from sluiceway.core.errors import ErrorClass, MetaStoreError, NotFoundError
from sluiceway.core.status import RunStatus, StepStatus
from sluiceway.meta import MetaStore, RunRecord, StepRecord, migrate
from sluiceway.meta.migrate import HEAD_REVISION, schema_revisions
from sluiceway.meta.tables import metadata
from tests.permissions import unwritable

pytestmark = pytest.mark.unit

RUN_A = "01JAAAAAAAAAAAAAAAAAAAAAA1"
RUN_B = "01JAAAAAAAAAAAAAAAAAAAAAB2"
RUN_C = "01JBBBBBBBBBBBBBBBBBBBBBC3"


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / ".sluiceway"


@pytest.fixture
def store(state_dir: Path) -> Iterator[MetaStore]:
    with MetaStore.for_state_dir(state_dir) as opened:
        yield opened


def _at(minute: int) -> datetime:
    return datetime(2025, 3, 1, 12, minute, tzinfo=UTC)


def _run_sql(state_dir: Path, sql: str) -> list[tuple[object, ...]]:
    """Runs SQL on the store's file with the plain sqlite3 module, beside the store."""
    connection = sqlite3.connect(state_dir / "meta.db")
    try:
        rows = connection.execute(sql).fetchall()
        connection.commit()
        return rows
    finally:
        connection.close()


# -- records -----------------------------------------------------------------------------------


def test_a_run_round_trips(store: MetaStore) -> None:
    store.start_run(
        RUN_A,
        "orders",
        trigger="schedule",
        config_hash="c0ffee",
        started_at=_at(0),
        details={"profile": "dev", "files": ["a.csv", "b.csv"]},
    )
    running = store.get_run(RUN_A)
    assert running.status is RunStatus.RUNNING
    assert running.finished_at is None
    assert running.duration_s is None
    assert running.pid == os.getpid()
    assert running.hostname

    store.finish_run(
        RUN_A,
        RunStatus.FAILED,
        rows_in=100,
        rows_out=90,
        rows_rejected=10,
        bytes_in=4096,
        error_class=ErrorClass.DATA,
        error_message="10 rows broke the contract",
        finished_at=_at(2),
    )
    assert store.get_run(RUN_A) == RunRecord(
        run_id=RUN_A,
        pipeline="orders",
        status=RunStatus.FAILED,
        trigger="schedule",
        started_at=_at(0),
        finished_at=_at(2),
        heartbeat_at=_at(2),
        rows_in=100,
        rows_out=90,
        rows_rejected=10,
        bytes_in=4096,
        error_class=ErrorClass.DATA,
        error_message="10 rows broke the contract",
        pid=os.getpid(),
        hostname=running.hostname,
        config_hash="c0ffee",
        details={"profile": "dev", "files": ["a.csv", "b.csv"]},
    )
    assert store.get_run(RUN_A).duration_s == 120.0


def test_steps_round_trip_in_start_order(store: MetaStore) -> None:
    store.start_run(RUN_A, "orders")
    store.start_step(RUN_A, "extract_orders", kind="extract", target="raw.orders")
    store.update_step(RUN_A, "extract_orders", rows_in=500, bytes_in=1_000)
    (live,) = store.list_steps(RUN_A)
    assert (live.status, live.rows_in, live.bytes_in, live.duration_s) == (
        StepStatus.RUNNING,
        500,
        1_000,
        None,
    )

    store.finish_step(
        RUN_A,
        "extract_orders",
        StepStatus.FAILED,
        rows_in=700,
        rows_out=0,
        rows_rejected=0,
        error_class=ErrorClass.TRANSIENT,
        error_message="connection reset",
    )
    store.start_step(RUN_A, "extract_orders", kind="extract", target="raw.orders", attempt=2)
    store.finish_step(
        RUN_A,
        "extract_orders",
        StepStatus.SUCCEEDED,
        attempt=2,
        rows_in=1_000,
        rows_out=990,
        rows_rejected=10,
        bytes_in=2_048,
        load_id="01JLOAD",
        details={"strategy": "merge"},
    )
    store.start_step(RUN_A, "check_orders", kind="check", target="raw.orders")

    steps = store.list_steps(RUN_A)
    assert [(s.step, s.attempt, s.status) for s in steps] == [
        ("extract_orders", 1, StepStatus.FAILED),
        ("extract_orders", 2, StepStatus.SUCCEEDED),
        ("check_orders", 1, StepStatus.RUNNING),
    ]
    retried = steps[1]
    assert retried == StepRecord(
        run_id=RUN_A,
        step="extract_orders",
        kind="extract",
        target="raw.orders",
        status=StepStatus.SUCCEEDED,
        attempt=2,
        started_at=retried.started_at,
        finished_at=retried.finished_at,
        rows_in=1_000,
        rows_out=990,
        rows_rejected=10,
        bytes_in=2_048,
        load_id="01JLOAD",
        error_class=None,
        error_message=None,
        details={"strategy": "merge"},
    )
    assert retried.duration_s is not None
    assert retried.duration_s >= 0
    assert steps[0].error_class is ErrorClass.TRANSIENT
    # Step activity is a sign of life of the run.
    heartbeat = store.get_run(RUN_A).heartbeat_at
    assert heartbeat is not None
    assert heartbeat >= steps[2].started_at


def test_timestamps_come_back_aware_utc(store: MetaStore, state_dir: Path) -> None:
    paris_summer = timezone(timedelta(hours=2))
    started = datetime(2025, 7, 1, 14, 30, 15, 123456, tzinfo=paris_summer)
    store.start_run(RUN_A, "orders", started_at=started)
    store.heartbeat(RUN_A)
    store.start_step(RUN_A, "extract", kind="extract")
    store.finish_step(
        RUN_A, "extract", StepStatus.SUCCEEDED, rows_in=0, rows_out=0, rows_rejected=0
    )
    store.finish_run(RUN_A, RunStatus.SUCCEEDED, rows_in=0, rows_out=0, rows_rejected=0)

    run = store.get_run(RUN_A)
    (step,) = store.list_steps(RUN_A)
    stamps = [run.started_at, run.finished_at, run.heartbeat_at, step.started_at, step.finished_at]
    for stamp in stamps:
        assert stamp is not None
        assert stamp.tzinfo is UTC
    assert run.started_at == started
    assert run.started_at.hour == 12
    # On disk too: UTC, so that text order is time order.
    assert _run_sql(state_dir, "SELECT started_at FROM runs") == [("2025-07-01 12:30:15.123456",)]


def test_naive_datetimes_are_refused(store: MetaStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.start_run(RUN_A, "orders", started_at=datetime(2025, 1, 1))
    store.start_run(RUN_A, "orders")
    with pytest.raises(ValueError, match="timezone-aware"):
        store.finish_run(
            RUN_A,
            RunStatus.SUCCEEDED,
            rows_in=0,
            rows_out=0,
            rows_rejected=0,
            finished_at=datetime(2025, 1, 1),
        )


def test_list_runs_is_newest_first_and_filters(store: MetaStore) -> None:
    store.start_run(RUN_A, "orders", started_at=_at(0))
    store.start_run(RUN_B, "customers", started_at=_at(5))
    store.start_run(RUN_C, "orders", started_at=_at(10))
    store.finish_run(RUN_A, RunStatus.SUCCEEDED, rows_in=1, rows_out=1, rows_rejected=0)

    assert [r.run_id for r in store.list_runs()] == [RUN_C, RUN_B, RUN_A]
    assert [r.run_id for r in store.list_runs(limit=2)] == [RUN_C, RUN_B]
    assert [r.run_id for r in store.list_runs(pipeline="orders")] == [RUN_C, RUN_A]
    assert [r.run_id for r in store.list_runs(status=RunStatus.RUNNING)] == [RUN_C, RUN_B]
    assert store.list_runs(pipeline="orders", status=RunStatus.CANCELLED) == []
    with pytest.raises(ValueError, match="limit"):
        store.list_runs(limit=0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.datetimes(
            min_value=datetime(1970, 1, 2),
            max_value=datetime(2200, 1, 1),
            timezones=st.sampled_from(
                [UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=5, minutes=45))]
            ),
        ),
        min_size=1,
        max_size=8,
        unique_by=lambda moment: moment.astimezone(UTC),
    )
)
def test_runs_sort_by_instant_whatever_their_zone(starts: list[datetime]) -> None:
    with MetaStore.open("sqlite://") as memory:
        for index, started in enumerate(starts):
            memory.start_run(f"RUN{index:04d}", "p", started_at=started)
        listed = memory.list_runs(limit=None)
    assert [run.started_at for run in listed] == sorted(starts, reverse=True)


# -- lookups and misuse ------------------------------------------------------------------------


def test_get_run_by_unique_prefix(store: MetaStore) -> None:
    store.start_run(RUN_A, "orders")
    store.start_run(RUN_C, "orders")
    assert store.get_run("01JB").run_id == RUN_C
    assert store.get_run("01jbbb").run_id == RUN_C  # ULIDs are case-insensitive
    assert store.get_run(f"  {RUN_A} ").run_id == RUN_A


def test_an_ambiguous_prefix_lists_the_candidates(store: MetaStore) -> None:
    store.start_run(RUN_A, "orders")
    store.start_run(RUN_B, "customers")
    with pytest.raises(NotFoundError) as caught:
        store.get_run("01JA")
    message = str(caught.value)
    assert RUN_A in message
    assert RUN_B in message
    assert "more characters" in message


def test_an_unknown_run_says_how_to_find_one(store: MetaStore) -> None:
    store.start_run(RUN_A, "orders")
    with pytest.raises(NotFoundError, match="sluiceway runs") as caught:
        store.get_run("01JZZZ")
    assert "01JZZZ" in str(caught.value)
    with pytest.raises(NotFoundError, match="at least 4 characters"):
        store.get_run("01J")
    with pytest.raises(NotFoundError, match="sluiceway runs"):
        store.list_steps("nope")


def test_writes_to_unknown_runs_and_steps_raise_not_found(store: MetaStore) -> None:
    with pytest.raises(NotFoundError):
        store.heartbeat(RUN_A)
    with pytest.raises(NotFoundError):
        store.finish_run(RUN_A, RunStatus.SUCCEEDED, rows_in=0, rows_out=0, rows_rejected=0)
    with pytest.raises(NotFoundError):
        store.start_step(RUN_A, "extract", kind="extract")
    store.start_run(RUN_A, "orders")
    with pytest.raises(NotFoundError, match="attempt 1 of step 'extract'"):
        store.update_step(RUN_A, "extract", rows_in=1)
    with pytest.raises(NotFoundError):
        store.finish_step(
            RUN_A, "extract", StepStatus.SKIPPED, rows_in=0, rows_out=0, rows_rejected=0
        )


def test_duplicates_and_bad_statuses_are_refused(store: MetaStore) -> None:
    store.start_run(RUN_A, "orders")
    with pytest.raises(MetaStoreError, match="already recorded") as caught:
        store.start_run(RUN_A, "orders")
    assert not isinstance(caught.value, NotFoundError)
    store.start_step(RUN_A, "extract", kind="extract")
    with pytest.raises(MetaStoreError, match="already recorded"):
        store.start_step(RUN_A, "extract", kind="extract")
    with pytest.raises(ValueError, match="finishes as"):
        store.finish_run(RUN_A, RunStatus.RUNNING, rows_in=0, rows_out=0, rows_rejected=0)
    with pytest.raises(ValueError, match="cannot finish as"):
        store.finish_step(
            RUN_A, "extract", StepStatus.PENDING, rows_in=0, rows_out=0, rows_rejected=0
        )
    with pytest.raises(ValueError, match="run id"):
        store.start_run("X" * 27, "orders")
    # A failed write leaves the store usable.
    assert store.get_run(RUN_A).status is RunStatus.RUNNING


def test_database_errors_become_meta_store_errors(store: MetaStore, state_dir: Path) -> None:
    store.start_run(RUN_A, "orders")
    _run_sql(state_dir, "DROP TABLE step_runs")
    with pytest.raises(MetaStoreError, match="could not list the steps") as caught:
        store.list_steps(RUN_A)
    assert str(state_dir / "meta.db") in str(caught.value)
    assert "step_runs" in str(caught.value)
    assert caught.value.__cause__ is not None
    assert type(caught.value.__cause__).__module__.startswith("sqlalchemy")


# -- opening -----------------------------------------------------------------------------------


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(store: MetaStore) -> None:
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_state_dir_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(MetaStoreError, match="cannot create") as caught:
        MetaStore.for_state_dir(blocker / ".sluiceway")
    assert str(blocker / ".sluiceway") in str(caught.value)
    assert "folder you can write to" in str(caught.value)


def test_a_read_only_state_dir_is_a_clear_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    with unwritable(locked), pytest.raises(MetaStoreError) as caught:
        MetaStore.for_state_dir(locked)
    assert str(locked) in str(caught.value)
    assert "permission denied" in str(caught.value) or "not permitted" in str(caught.value)


def test_an_unopenable_sqlite_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder" / "meta.db"
    with pytest.raises(MetaStoreError, match="unable to open") as caught:
        MetaStore.open(f"sqlite:///{missing}")
    assert str(missing) in str(caught.value)


def test_bad_urls_and_missing_drivers_are_clear_errors() -> None:
    with pytest.raises(MetaStoreError, match="not a database URL"):
        MetaStore.open("definitely not a url")
    with pytest.raises(MetaStoreError, match="driver"):
        MetaStore.open("mysql+mysqldb://nobody@127.0.0.1/meta")


# -- migrations --------------------------------------------------------------------------------


def test_head_revision_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert script.get_heads() == [HEAD_REVISION]


def test_the_migrations_build_the_schema_of_tables_py(tmp_path: Path) -> None:
    """A fresh store is created from tables.py; a store that migrates replays alembic. Both
    must give the same schema, so run the alembic path on an empty database and compare."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from sluiceway.meta.engines import create_meta_engine

    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    engine = create_meta_engine(url)
    try:
        migrate._upgrade(engine, url)
        with engine.connect() as connection:
            assert schema_revisions(connection) == {HEAD_REVISION}
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    finally:
        engine.dispose()


def test_a_fresh_store_does_not_import_alembic(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from sluiceway.meta import MetaStore
        MetaStore.for_state_dir(Path({str(tmp_path / "fresh")!r})).close()
        print("alembic" in sys.modules)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_fresh_store_reaches_head_and_matches_the_tables(store: MetaStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as connection:
        assert schema_revisions(connection) == {HEAD_REVISION}
        # The migrations and tables.py describe the same schema.
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []


def test_reopening_a_current_store_skips_alembic(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    MetaStore.for_state_dir(state_dir).close()

    def refuse(*_args: object) -> None:
        raise AssertionError("a current store must not be migrated again")

    monkeypatch.setattr(migrate, "_upgrade", refuse)
    with MetaStore.for_state_dir(state_dir) as reopened:
        assert reopened.list_runs() == []


def test_opening_a_current_store_does_not_import_alembic(state_dir: Path) -> None:
    MetaStore.for_state_dir(state_dir).close()
    probe = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from sluiceway.meta import MetaStore
        MetaStore.for_state_dir(Path(sys.argv[1])).close()
        print(sorted(name for name in sys.modules if name.split(".")[0] == "alembic"))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(state_dir)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "[]"


def test_a_store_from_a_newer_sluiceway_is_refused(state_dir: Path) -> None:
    with MetaStore.for_state_dir(state_dir) as current:
        current.start_run(RUN_A, "orders")
    _run_sql(state_dir, "UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(MetaStoreError, match="newer Sluiceway") as caught:
        MetaStore.for_state_dir(state_dir)
    assert "9999" in str(caught.value)
    assert "upgrade" in str(caught.value)
    # Nothing was touched.
    assert _run_sql(state_dir, "SELECT version_num FROM alembic_version") == [("9999",)]
    assert _run_sql(state_dir, "SELECT run_id FROM runs") == [(RUN_A,)]


# The revision after the current head, whatever that is.
_NEXT_REVISION = f"{int(HEAD_REVISION) + 1:04d}"

_REBUILD_RUNS = textwrap.dedent(
    f"""
    import sqlalchemy as sa
    from alembic import op

    revision = "{_NEXT_REVISION}"
    down_revision = "{HEAD_REVISION}"
    branch_labels = None
    depends_on = None


    def upgrade() -> None:
        # On SQLite this copies runs into a new table and drops the old one.
        with op.batch_alter_table("runs", recreate="always") as batch:
            batch.alter_column("trigger", type_=sa.String(40))


    def downgrade() -> None:
        pass
    """
)


def test_a_migration_that_rebuilds_runs_keeps_their_steps(
    state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with MetaStore.for_state_dir(state_dir) as store:
        store.start_run(RUN_A, "orders")
        store.start_step(RUN_A, "extract", kind="extract")
    scripts = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    migration = scripts / "versions" / f"{_NEXT_REVISION}_rebuild_runs.py"
    migration.write_text(_REBUILD_RUNS, encoding="utf-8")
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", scripts)
    monkeypatch.setattr(migrate, "HEAD_REVISION", _NEXT_REVISION)

    # With foreign keys on, dropping the old runs table would cascade into step_runs.
    with MetaStore.for_state_dir(state_dir) as store:
        assert [step.step for step in store.list_steps(RUN_A)] == ["extract"]
        with store.engine.connect() as connection:
            assert schema_revisions(connection) == {_NEXT_REVISION}
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


# -- several processes -------------------------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from sluiceway.core.status import RunStatus, StepStatus
    from sluiceway.meta import MetaStore

    state_dir, go = Path(sys.argv[1]), Path(sys.argv[2])
    prefix, count = sys.argv[3], int(sys.argv[4])
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.002)
    # Both processes open the fresh store at once, so they also race to migrate it.
    with MetaStore.for_state_dir(state_dir) as store:
        for i in range(count):
            run_id = f"{prefix}{i:05d}"
            store.start_run(run_id, prefix)
            store.start_step(run_id, "extract", kind="extract")
            store.update_step(run_id, "extract", rows_in=i)
            store.heartbeat(run_id)
            store.finish_step(run_id, "extract", StepStatus.SUCCEEDED,
                              rows_in=i, rows_out=i, rows_rejected=0)
            store.finish_run(run_id, RunStatus.SUCCEEDED, rows_in=i, rows_out=i, rows_rejected=0)
            store.list_runs(limit=5)
    """
)


def test_two_processes_write_at_once_without_locking_errors(tmp_path: Path) -> None:
    state_dir = tmp_path / ".sluiceway"
    go = tmp_path / "go"
    count = 150
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(state_dir), str(go), prefix, str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for prefix in ("A", "B")
    ]
    try:
        for writer in writers:
            assert writer.stdout is not None
            assert writer.stdout.readline().strip() == "ready"
        go.touch()
        outcomes = [writer.communicate(timeout=120) for writer in writers]
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
                writer.wait()
    for writer, (_out, err) in zip(writers, outcomes, strict=True):
        assert writer.returncode == 0, err
    with MetaStore.for_state_dir(state_dir) as store:
        runs = store.list_runs(limit=None)
        assert len(runs) == 2 * count
        assert {run.status for run in runs} == {RunStatus.SUCCEEDED}
        assert {run.pipeline for run in runs} == {"A", "B"}
        assert len(store.list_steps("B00042")) == 1


# -- dead processes ----------------------------------------------------------------------------


def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


def test_runs_of_killed_processes_are_reaped(store: MetaStore) -> None:
    doomed, alive = _sleeper(), _sleeper()
    try:
        store.start_run(RUN_A, "orders", pid=doomed.pid, started_at=_at(0))
        store.start_step(RUN_A, "extract", kind="extract")
        store.start_run(RUN_B, "orders", pid=alive.pid)
        store.start_run(RUN_C, "orders")  # this very process
        store.start_run("ELSEWHERE1", "orders", pid=doomed.pid, hostname="another-machine")
        doomed.kill()
        doomed.wait()

        assert store.reap_abandoned() == [RUN_A]
        assert store.reap_abandoned() == []
    finally:
        alive.kill()
        alive.wait()

    reaped = store.get_run(RUN_A)
    message = f"the process running it (pid {doomed.pid}) died before it finished"
    assert (reaped.status, reaped.error_class, reaped.error_message) == (
        RunStatus.FAILED,
        ErrorClass.TERMINAL,
        message,
    )
    # It finished at its last sign of life, not when somebody noticed.
    assert reaped.finished_at == reaped.heartbeat_at
    (step,) = store.list_steps(RUN_A)
    assert (step.status, step.error_class, step.error_message) == (
        StepStatus.FAILED,
        ErrorClass.TERMINAL,
        message,
    )
    assert step.finished_at is not None
    assert step.finished_at >= step.started_at
    assert store.get_run(RUN_C).status is RunStatus.RUNNING
    assert store.get_run("ELSEWHERE1").status is RunStatus.RUNNING


def test_listing_runs_reaps_first(store: MetaStore) -> None:
    doomed = _sleeper()
    store.start_run(RUN_A, "orders", pid=doomed.pid)
    doomed.kill()
    doomed.wait()
    (listed,) = store.list_runs()
    assert listed.status is RunStatus.FAILED
    assert listed.finished_at is not None
