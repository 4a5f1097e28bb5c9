"""The schema registry in the metadata store, on the real PostgreSQL at 127.0.0.1:5432.

Each test gets a database of its own, created with a unique name and dropped afterwards, whose
time zone is away from UTC.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from sluiceway.core.errors import NotFoundError
from sluiceway.meta import MetaStore, SchemaTableRecord, SchemaVersionRecord
from sluiceway.meta.migrate import HEAD_REVISION, alembic_config, schema_revisions

pytestmark = pytest.mark.integration

WAREHOUSE = "duckdb:/data/warehouse.duckdb"
TABLE = "bronze.customers"
RUN_A = "01JAAAAAAAAAAAAAAAAAAAAAA1"


@pytest.fixture
def store(pg_url: str) -> Iterator[MetaStore]:
    with MetaStore.open(pg_url) as opened:
        yield opened


def _column(name: str, type_: str = "VARCHAR", *, nullable: bool = True) -> dict[str, Any]:
    return {"name": name, "type": type_, "nullable": nullable}


V1_COLUMNS = [_column("id", "BIGINT", nullable=False), _column("name")]
V2_COLUMNS = [
    _column("id", "BIGINT", nullable=False),
    _column("full_name", "VARCHAR", nullable=False),
    _column("tags", "VARCHAR[]"),
]
V2_DIFF: dict[str, Any] = {
    "added": [_column("tags", "VARCHAR[]")],
    "removed": [],
    "type_changed": [],
    "nullability_changed": [{"column": "full_name", "old_nullable": True, "new_nullable": False}],
    "renamed": [{"old": "name", "new": "full_name"}],
}
# Keys that jsonb would store in an order of its own (shorter keys first).
V2_ALIASES = {"a_long_old_name": "full_name", "name": "full_name", "zz": "id"}


def test_versions_round_trip(store: MetaStore) -> None:
    first = store.register_schema_version(
        WAREHOUSE,
        "Bronze.Customers",
        columns=V1_COLUMNS,
        fingerprint="fp-one",
        diff={"added": V1_COLUMNS},
        aliases={},
        reason="load",
        pipeline="customers",
        run_id=RUN_A,
        load_id="01JLOAD1",
        created_at=datetime(2025, 7, 1, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2))),
    )
    second = store.register_schema_version(
        WAREHOUSE,
        TABLE,
        columns=V2_COLUMNS,
        fingerprint="fp-two",
        diff=V2_DIFF,
        aliases=V2_ALIASES,
        reason="declared",
    )
    assert first == SchemaVersionRecord(
        warehouse=WAREHOUSE,
        table_name=TABLE,
        version=1,
        fingerprint="fp-one",
        columns=V1_COLUMNS,
        diff={"added": V1_COLUMNS},
        aliases={},
        reason="load",
        pipeline="customers",
        run_id=RUN_A,
        load_id="01JLOAD1",
        created_at=datetime(2025, 7, 1, 12, 0, 0, 123456, tzinfo=UTC),
    )
    assert second.version == 2
    history = store.schema_history(WAREHOUSE, "BRONZE.customers")
    assert history == [first, second]
    assert history[1].columns == V2_COLUMNS
    assert history[1].diff == V2_DIFF
    # Same order as on SQLite, whatever order jsonb keeps.
    assert list(history[1].aliases.items()) == sorted(V2_ALIASES.items())
    assert {v.created_at.tzinfo for v in history} == {UTC}

    # Re-registering the latest schema is a no-op.
    again = store.register_schema_version(
        WAREHOUSE,
        TABLE,
        columns=V2_COLUMNS,
        fingerprint="fp-two",
        diff={},
        aliases=dict(reversed(V2_ALIASES.items())),
        reason="load",
    )
    assert again == second
    assert store.latest_schema_version(WAREHOUSE, TABLE) == second
    assert store.schema_version(WAREHOUSE, TABLE, 1) == first
    assert store.schema_tables() == [
        SchemaTableRecord(WAREHOUSE, TABLE, latest_version=2, updated_at=second.created_at)
    ]
    with pytest.raises(NotFoundError, match="its versions are 1, 2") as caught:
        store.schema_version(WAREHOUSE, TABLE, 3)
    assert caught.value.hint is not None
    assert f"sluiceway schema history {TABLE}" in caught.value.hint


def test_history_survives_a_new_store(pg_url: str) -> None:
    with MetaStore.open(pg_url) as first:
        registered = first.register_schema_version(
            WAREHOUSE,
            TABLE,
            columns=V1_COLUMNS,
            fingerprint="fp-one",
            diff={},
            aliases={},
            reason="observed",
        )
    with MetaStore.open(pg_url) as reopened:
        assert reopened.schema_history(WAREHOUSE, TABLE) == [registered]


_REGISTRAR = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from sluiceway.meta import MetaStore

    url, go = sys.argv[1], Path(sys.argv[2])
    prefix, count = sys.argv[3], int(sys.argv[4])
    with MetaStore.open(url) as store:
        store.schema_tables()
        print("ready", flush=True)
        while not go.exists():
            time.sleep(0.001)
        for i in range(count):
            record = store.register_schema_version(
                "duckdb:/data/warehouse.duckdb",
                "bronze.customers",
                columns=[{"name": f"{prefix}_{i}", "type": "BIGINT", "nullable": True}],
                fingerprint=f"{prefix}-{i}",
                diff={},
                aliases={},
                reason="load",
            )
            print(record.version, record.fingerprint, flush=True)
            time.sleep(0.002)
    """
)


def test_two_processes_get_distinct_consecutive_versions(pg_url: str, tmp_path: Path) -> None:
    MetaStore.open(pg_url).close()
    go = tmp_path / "go"
    count = 20
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _REGISTRAR, pg_url, str(go), prefix, str(count)],
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
    got: dict[int, str] = {}
    for writer, (out, err) in zip(writers, outcomes, strict=True):
        assert writer.returncode == 0, err
        mine = [line.split() for line in out.splitlines()]
        assert len(mine) == count
        numbers = [int(number) for number, _ in mine]
        assert numbers == sorted(numbers)
        got |= {int(number): fingerprint for number, fingerprint in mine}
    assert sorted(got) == list(range(1, 2 * count + 1))
    with MetaStore.open(pg_url) as store:
        history = store.schema_history(WAREHOUSE, TABLE)
    assert {v.version: v.fingerprint for v in history} == got
    assert [v.version for v in history] == list(range(1, 2 * count + 1))


def test_a_database_at_revision_0001_is_upgraded_keeping_its_runs(pg_url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(pg_url), "0001")
    engine = create_engine(pg_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO runs (run_id, pipeline, status, trigger, started_at) "
                    "VALUES (:run_id, 'orders', 'succeeded', 'cli', now())"
                ),
                {"run_id": RUN_A},
            )
    finally:
        engine.dispose()
    with MetaStore.open(pg_url) as store:
        assert store.get_run(RUN_A).pipeline == "orders"
        assert store.schema_tables() == []
        with store.engine.connect() as connection:
            assert schema_revisions(connection) == {HEAD_REVISION}
