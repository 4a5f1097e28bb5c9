"""The schema registry in the metadata store, on SQLite: numbering, idempotency, lookups,
restarts, concurrent writers, and the migration that adds it to an existing store."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from sluiceway.core.errors import MetaStoreError, NotFoundError
from sluiceway.core.status import RunStatus, StepStatus
from sluiceway.meta import MetaStore, SchemaTableRecord, SchemaVersionRecord, schema_registry
from sluiceway.meta.migrate import HEAD_REVISION, alembic_config, schema_revisions
from sluiceway.meta.tables import metadata

pytestmark = pytest.mark.unit

WAREHOUSE = "duckdb:/data/warehouse.duckdb"
OTHER_WAREHOUSE = "duckdb:/data/other.duckdb"
TABLE = "bronze.customers"
RUN_A = "01JAAAAAAAAAAAAAAAAAAAAAA1"


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / ".sluiceway"


@pytest.fixture
def store(state_dir: Path) -> Iterator[MetaStore]:
    with MetaStore.for_state_dir(state_dir) as opened:
        yield opened


def _at(minute: int) -> datetime:
    return datetime(2025, 3, 1, 12, minute, tzinfo=UTC)


def _column(name: str, type_: str = "VARCHAR", *, nullable: bool = True) -> dict[str, Any]:
    return {"name": name, "type": type_, "nullable": nullable}


def _diff(**changes: list[dict[str, Any]]) -> dict[str, Any]:
    empty: dict[str, Any] = {
        "added": [],
        "removed": [],
        "type_changed": [],
        "nullability_changed": [],
        "renamed": [],
    }
    return empty | changes


def _register(
    store: MetaStore,
    fingerprint: str,
    *,
    table: str = TABLE,
    warehouse: str = WAREHOUSE,
    aliases: dict[str, str] | None = None,
    created_at: datetime | None = None,
) -> SchemaVersionRecord:
    """A one-column schema whose fingerprint is all that tells versions apart."""
    return store.register_schema_version(
        warehouse,
        table,
        columns=[_column(f"col_{fingerprint}")],
        fingerprint=fingerprint,
        diff=_diff(),
        aliases=aliases or {},
        reason="observed",
        created_at=created_at,
    )


def _run_sql(state_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(state_dir / "meta.db")
    try:
        rows = connection.execute(sql).fetchall()
        connection.commit()
        return rows
    finally:
        connection.close()


# -- versions ----------------------------------------------------------------------------------

V1_COLUMNS = [_column("id", "BIGINT", nullable=False), _column("name"), _column("credit_limit")]
V2_COLUMNS = [
    _column("id", "BIGINT", nullable=False),
    _column("full_name"),
    _column("credit_limit", "DOUBLE"),
    _column("loyalty_tier"),
]
V3_COLUMNS = [
    _column("id", "BIGINT", nullable=False),
    _column("display_name", nullable=False),
    _column("credit_limit", "DOUBLE"),
    _column("loyalty_tier"),
    _column("tags", "VARCHAR[]"),
]
V2_DIFF = _diff(
    added=[_column("loyalty_tier")],
    type_changed=[{"column": "credit_limit", "old": "BIGINT", "new": "DOUBLE"}],
    renamed=[{"old": "name", "new": "full_name"}],
)
V3_DIFF = _diff(
    added=[_column("tags", "VARCHAR[]")],
    nullability_changed=[{"column": "display_name", "old_nullable": True, "new_nullable": False}],
    renamed=[{"old": "full_name", "new": "display_name"}],
)
V3_ALIASES = {"name": "display_name", "full_name": "display_name"}


def _register_three(store: MetaStore) -> list[SchemaVersionRecord]:
    summer = timezone(timedelta(hours=2))
    return [
        store.register_schema_version(
            WAREHOUSE,
            TABLE,
            columns=V1_COLUMNS,
            fingerprint="fp-one",
            diff=_diff(added=V1_COLUMNS),
            aliases={},
            reason="load",
            pipeline="customers",
            run_id=RUN_A,
            load_id="01JLOAD1",
            created_at=datetime(2025, 7, 1, 14, 0, tzinfo=summer),
        ),
        store.register_schema_version(
            WAREHOUSE,
            TABLE,
            columns=V2_COLUMNS,
            fingerprint="fp-two",
            diff=V2_DIFF,
            aliases={"name": "full_name"},
            reason="load",
            pipeline="customers",
            run_id=RUN_A,
            load_id="01JLOAD2",
            created_at=_at(1),
        ),
        store.register_schema_version(
            WAREHOUSE,
            TABLE,
            columns=V3_COLUMNS,
            fingerprint="fp-three",
            diff=V3_DIFF,
            aliases=V3_ALIASES,
            reason="declared",
            created_at=_at(2),
        ),
    ]


def test_versions_are_numbered_in_order_and_round_trip(store: MetaStore) -> None:
    registered = _register_three(store)
    assert [record.version for record in registered] == [1, 2, 3]
    assert registered[0] == SchemaVersionRecord(
        warehouse=WAREHOUSE,
        table_name=TABLE,
        version=1,
        fingerprint="fp-one",
        columns=V1_COLUMNS,
        diff=_diff(added=V1_COLUMNS),
        aliases={},
        reason="load",
        pipeline="customers",
        run_id=RUN_A,
        load_id="01JLOAD1",
        created_at=datetime(2025, 7, 1, 12, 0, tzinfo=UTC),
    )
    history = store.schema_history(WAREHOUSE, TABLE)
    # What registering returned is exactly what reading hands back.
    assert history == registered
    assert [(v.columns, v.diff, v.aliases) for v in history] == [
        (V1_COLUMNS, _diff(added=V1_COLUMNS), {}),
        (V2_COLUMNS, V2_DIFF, {"name": "full_name"}),
        (V3_COLUMNS, V3_DIFF, V3_ALIASES),
    ]
    assert [(v.reason, v.pipeline, v.run_id, v.load_id) for v in history] == [
        ("load", "customers", RUN_A, "01JLOAD1"),
        ("load", "customers", RUN_A, "01JLOAD2"),
        ("declared", None, None, None),
    ]
    for version in history:
        assert version.created_at.tzinfo is UTC
    assert store.latest_schema_version(WAREHOUSE, TABLE) == registered[2]
    assert store.schema_version(WAREHOUSE, TABLE, 2) == registered[1]


def test_registering_copies_the_callers_data(store: MetaStore) -> None:
    columns = [_column("id")]
    aliases = {"old": "id"}
    record = store.register_schema_version(
        WAREHOUSE,
        TABLE,
        columns=columns,
        fingerprint="fp",
        diff={"renamed": ({"old": "old", "new": "id"},)},  # a tuple, as plain data gives lists
        aliases=aliases,
        reason="load",
    )
    columns[0]["name"] = "changed afterwards"
    aliases["x"] = "y"
    assert record.columns == [_column("id")]
    assert record.aliases == {"old": "id"}
    assert record.diff == {"renamed": [{"old": "old", "new": "id"}]}
    assert store.schema_history(WAREHOUSE, TABLE) == [record]


def test_re_registering_the_latest_schema_creates_no_version(store: MetaStore) -> None:
    first = _register(store, "fp-a", created_at=_at(0))
    again = _register(store, "fp-a", created_at=_at(5))
    # The existing version, as it was first registered.
    assert again == first
    assert len(store.schema_history(WAREHOUSE, TABLE)) == 1

    # A new rename is a new version even when the columns are the same...
    renamed = _register(store, "fp-a", aliases={"old": "col_fp-a"})
    assert renamed.version == 2
    assert _register(store, "fp-a", aliases={"old": "col_fp-a"}) == renamed
    # ...and going back to an older schema is a change too.
    assert _register(store, "fp-b").version == 3
    assert _register(store, "fp-a", aliases={"old": "col_fp-a"}).version == 4
    assert [v.version for v in store.schema_history(WAREHOUSE, TABLE)] == [1, 2, 3, 4]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=12))
def test_only_changes_make_versions(fingerprints: list[str]) -> None:
    with MetaStore.open("sqlite://") as memory:
        for fingerprint in fingerprints:
            _register(memory, fingerprint)
        history = memory.schema_history(WAREHOUSE, TABLE)
    changes = [fp for i, fp in enumerate(fingerprints) if i == 0 or fp != fingerprints[i - 1]]
    assert [v.fingerprint for v in history] == changes
    assert [v.version for v in history] == list(range(1, len(changes) + 1))


def test_table_names_compare_case_insensitively(store: MetaStore, state_dir: Path) -> None:
    assert _register(store, "fp-a", table="Bronze.Customers").table_name == TABLE
    assert _register(store, "fp-b", table="BRONZE.CUSTOMERS ").version == 2
    assert [v.version for v in store.schema_history(WAREHOUSE, "bronze.CUSTOMERS")] == [1, 2]
    assert store.schema_version(WAREHOUSE, "Bronze.customers", 1).fingerprint == "fp-a"
    latest = store.latest_schema_version(WAREHOUSE, "BRONZE.customers")
    assert latest is not None
    assert latest.version == 2
    assert _run_sql(state_dir, "SELECT DISTINCT table_name FROM schema_versions") == [(TABLE,)]


def test_each_warehouse_and_table_is_numbered_on_its_own(store: MetaStore) -> None:
    _register(store, "fp-a")
    _register(store, "fp-b")
    assert _register(store, "fp-a", warehouse=OTHER_WAREHOUSE).version == 1
    assert _register(store, "fp-a", table="bronze.orders").version == 1
    assert store.latest_schema_version(OTHER_WAREHOUSE, "bronze.orders") is None


def test_history_survives_a_restart(state_dir: Path) -> None:
    with MetaStore.for_state_dir(state_dir) as first:
        registered = _register_three(first)
    with MetaStore.for_state_dir(state_dir) as reopened:
        assert reopened.schema_history(WAREHOUSE, TABLE) == registered
        # Numbering carries on where it was.
        assert _register(reopened, "fp-four").version == 4


def test_schema_tables_lists_latest_versions_sorted(store: MetaStore) -> None:
    _register(store, "fp-a", table="silver.orders", created_at=_at(0))
    _register(store, "fp-b", table="silver.orders", created_at=_at(3))
    _register(store, "fp-a", table="Bronze.Customers", created_at=_at(1))
    _register(store, "fp-a", warehouse=OTHER_WAREHOUSE, created_at=_at(2))
    assert store.schema_tables(WAREHOUSE) == [
        SchemaTableRecord(WAREHOUSE, TABLE, latest_version=1, updated_at=_at(1)),
        SchemaTableRecord(WAREHOUSE, "silver.orders", latest_version=2, updated_at=_at(3)),
    ]
    assert [(t.warehouse, t.table_name) for t in store.schema_tables()] == [
        (OTHER_WAREHOUSE, TABLE),
        (WAREHOUSE, TABLE),
        (WAREHOUSE, "silver.orders"),
    ]
    assert store.schema_tables("duckdb:/nowhere.duckdb") == []


# -- lookups and misuse ------------------------------------------------------------------------


def test_unknown_tables_have_no_versions(store: MetaStore) -> None:
    assert store.latest_schema_version(WAREHOUSE, TABLE) is None
    assert store.schema_history(WAREHOUSE, TABLE) == []
    with pytest.raises(NotFoundError, match="sluiceway schema list") as caught:
        store.schema_version(WAREHOUSE, TABLE, 1)
    assert f"no schema is registered for table {TABLE}" in str(caught.value)
    assert WAREHOUSE in str(caught.value)


def test_an_unknown_version_lists_the_versions_there_are(store: MetaStore) -> None:
    for fingerprint in ("a", "b", "c"):
        _register(store, fingerprint)
    with pytest.raises(NotFoundError) as caught:
        store.schema_version(WAREHOUSE, "Bronze.Customers", 7)
    message = str(caught.value)
    assert f"table {TABLE} of warehouse {WAREHOUSE} has no schema version 7" in message
    assert "its versions are 1 to 3" in message
    assert caught.value.hint is not None
    assert f"sluiceway schema history {TABLE}" in caught.value.hint
    with pytest.raises(NotFoundError, match="no schema version 0"):
        store.schema_version(WAREHOUSE, TABLE, 0)


def test_version_lists_are_compact() -> None:
    describe = schema_registry.describe_numbers
    assert describe([1]) == "1"
    assert describe([1, 2]) == "1, 2"
    assert describe(list(range(1, 41))) == "1 to 40"
    assert describe([1, 2, 4, 5, 6, 9]) == "1, 2, 4 to 6, 9"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reason": "because"}, "reason must be one of declared, load, observed"),
        ({"created_at": datetime(2025, 1, 1)}, "timezone-aware"),
        ({"table": "  "}, "table name is required"),
        ({"warehouse": ""}, "warehouse id is required"),
        ({"fingerprint": ""}, "fingerprint is required"),
        ({"columns": [{"name": "id", "type": "BIGINT"}]}, "column 1 must be"),
        ({"columns": [_column("id"), {"name": "", "type": "X", "nullable": True}]}, "column 2"),
        ({"columns": [{"name": "id", "type": {1, 2}, "nullable": True}]}, "plain JSON data"),
        ({"diff": {"added": [float("nan")]}}, "no NaN"),
        ({"aliases": {"old": 3}}, "aliases map old column names"),
    ],
)
def test_misuse_is_a_value_error(store: MetaStore, change: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "warehouse": WAREHOUSE,
        "table": TABLE,
        "columns": [_column("id")],
        "fingerprint": "fp",
        "diff": _diff(),
        "aliases": {},
        "reason": "load",
    } | change
    with pytest.raises(ValueError, match=message):
        store.register_schema_version(
            arguments.pop("warehouse"), arguments.pop("table"), **arguments
        )
    assert store.schema_history(WAREHOUSE, TABLE) == []


def test_database_errors_become_meta_store_errors(store: MetaStore, state_dir: Path) -> None:
    _run_sql(state_dir, "DROP TABLE schema_versions")
    with pytest.raises(MetaStoreError, match="could not register a schema version") as caught:
        _register(store, "fp")
    assert str(state_dir / "meta.db") in str(caught.value)
    assert caught.value.__cause__ is not None
    with pytest.raises(MetaStoreError, match="could not list the tables"):
        store.schema_tables()


def test_the_latest_version_is_found_through_the_primary_key(store: MetaStore) -> None:
    for fingerprint in ("a", "b", "c"):
        _register(store, fingerprint)
    with store.engine.connect() as connection:
        plan = " / ".join(
            str(row[-1])
            for row in connection.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT * FROM schema_versions "
                    "WHERE warehouse = :w AND table_name = :t ORDER BY version DESC LIMIT 1"
                ),
                {"w": WAREHOUSE, "t": TABLE},
            )
        )
    assert "USING INDEX sqlite_autoindex_schema_versions_1" in plan
    assert "TEMP B-TREE" not in plan  # no sort: the index is read backwards


# -- conflicts and several processes ----------------------------------------------------------


def test_a_version_number_taken_meanwhile_is_retried(
    store: MetaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that skips the lock may take the number first; the next one is used."""
    _register(store, "fp-a")
    real_latest = schema_registry._latest_row
    reads: list[object] = []

    def latest_row(*args: Any) -> SchemaVersionRecord | None:
        reads.append(args)
        # The first read misses version 1, as if it had not been committed yet.
        return None if len(reads) == 1 else real_latest(*args)

    monkeypatch.setattr(schema_registry, "_latest_row", latest_row)
    assert _register(store, "fp-b").version == 2
    assert len(reads) == 2

    monkeypatch.setattr(schema_registry, "_latest_row", lambda *_args: None)
    with pytest.raises(MetaStoreError, match="could not register a schema version"):
        _register(store, "fp-c")
    monkeypatch.undo()
    assert [v.fingerprint for v in store.schema_history(WAREHOUSE, TABLE)] == ["fp-a", "fp-b"]


_REGISTRAR = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from sluiceway.meta import MetaStore

    state_dir, go = Path(sys.argv[1]), Path(sys.argv[2])
    prefix, count = sys.argv[3], int(sys.argv[4])
    with MetaStore.for_state_dir(state_dir) as store:
        # Opened (and Python warmed up) first, so that the two processes really overlap.
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
                pipeline=prefix,
            )
            print(record.version, record.fingerprint, flush=True)
            time.sleep(0.002)  # between loads, so that the other process gets its turns
    """
)


def test_two_processes_get_distinct_consecutive_versions(tmp_path: Path) -> None:
    state_dir = tmp_path / ".sluiceway"
    go = tmp_path / "go"
    count = 20
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _REGISTRAR, str(state_dir), str(go), prefix, str(count)],
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
        numbers = [int(number) for number, _ in mine]
        assert numbers == sorted(numbers)
        assert len(mine) == count
        got |= {int(number): fingerprint for number, fingerprint in mine}
    assert sorted(got) == list(range(1, 2 * count + 1))
    with MetaStore.for_state_dir(state_dir) as store:
        history = store.schema_history(WAREHOUSE, TABLE)
    assert [v.version for v in history] == list(range(1, 2 * count + 1))
    assert {v.version: v.fingerprint for v in history} == got


# -- migration ---------------------------------------------------------------------------------


def test_a_store_at_revision_0001_is_upgraded_keeping_its_runs(state_dir: Path) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    state_dir.mkdir()
    command.upgrade(alembic_config(f"sqlite:///{state_dir / 'meta.db'}"), "0001")
    assert _run_sql(state_dir, "SELECT version_num FROM alembic_version") == [("0001",)]
    _run_sql(
        state_dir,
        "INSERT INTO runs (run_id, pipeline, status, trigger, started_at, finished_at) "
        f"VALUES ('{RUN_A}', 'orders', 'succeeded', 'cli', "
        "'2025-03-01 12:00:00.000000', '2025-03-01 12:01:00.000000')",
    )
    _run_sql(
        state_dir,
        "INSERT INTO step_runs (run_id, step, kind, status, attempt, started_at) "
        f"VALUES ('{RUN_A}', 'extract', 'extract', 'succeeded', 1, '2025-03-01 12:00:00')",
    )

    with MetaStore.for_state_dir(state_dir) as store:
        run = store.get_run(RUN_A)
        assert (run.pipeline, run.status, run.started_at) == ("orders", RunStatus.SUCCEEDED, _at(0))
        assert [(s.step, s.status) for s in store.list_steps(RUN_A)] == [
            ("extract", StepStatus.SUCCEEDED)
        ]
        assert _register(store, "fp").version == 1
        with store.engine.connect() as connection:
            assert schema_revisions(connection) == {HEAD_REVISION}
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []
