"""PostgreSQL change data capture as a pipeline source: snapshot, then changes, exactly once.

The source database is a private ``wal_level = logical`` cluster (``pg_logical.py``); the
warehouse is DuckDB in the test's project folder. Every test drives real INSERT / UPDATE /
DELETE traffic and checks the target against the source table, by key and every column.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from typer.testing import CliRunner

from sluiceway.cdc import parse_lsn
from sluiceway.cli.app import app
from sluiceway.core.errors import ConfigError, ErrorClass, SourceError, SourceUnavailableError
from sluiceway.core.events import EventBus
from sluiceway.core.status import RunStatus, StepStatus
from sluiceway.engine.registry import Registry
from sluiceway.engine.runner import PipelineRunner, RunResult, StepResult
from sluiceway.sources.postgres_cdc import PostgresCdcSpec
from sluiceway.sources.postgres_cdc.reading import CdcReader
from tests.conftest import WritePipeline

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("pg_logical")]

Conn = psycopg.Connection[Any]

SLOT = "sluiceway_shop_orders"  # derived from the pipeline and source names
COLUMNS = "id, customer, amount, paid, placed_on, note"
CHECKSUM = f"SELECT count(*), sum(hash({COLUMNS})) FROM orders"


def pipeline(write: str = "merge", extra: str = "") -> str:
    return f"""
        pipeline: shop
        quality: {{profile: false}}
        sources:
          orders:
            type: postgres_cdc
            connection: ${{SHOP_DB}}
            source_table: sales.orders
            write: {write}
            primary_key: [id]
            batch_size: 4
            {extra}
        """


@pytest.fixture
def shop(logical_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Conn]:
    """The application's database: ``sales.orders`` and its writer connection."""
    monkeypatch.setenv("SHOP_DB", logical_database)
    with psycopg.connect(logical_database, autocommit=True) as writer:
        writer.execute("CREATE SCHEMA sales")
        writer.execute(
            "CREATE TABLE sales.orders (id integer PRIMARY KEY, customer text NOT NULL, "
            "amount numeric(10,2), paid boolean, placed_on date, note text)"
        )
        writer.execute("CREATE TABLE sales.audit (id serial PRIMARY KEY, what text)")
        yield writer


def run(registry: Registry, path: Path) -> RunResult:
    return PipelineRunner(registry.load(path), registry=registry, bus=EventBus()).run()


def step_of(result: RunResult) -> StepResult:
    (step,) = result.steps
    assert step.error is None, step.error
    assert step.status is StepStatus.SUCCEEDED
    return step


def warehouse(project: Path, query: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(project / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(query).fetchall()


def target(project: Path) -> list[tuple[Any, ...]]:
    return warehouse(project, f"SELECT {COLUMNS} FROM orders ORDER BY id")


def source_rows(shop: Conn) -> list[tuple[Any, ...]]:
    return shop.execute(f"SELECT {COLUMNS} FROM sales.orders ORDER BY id").fetchall()


def stored_lsn(project: Path) -> int:
    (row,) = warehouse(
        project, "SELECT value FROM _sluiceway.state WHERE source = 'orders' AND name = 'cursor'"
    )
    value = json.loads(str(row[0]))
    assert value["slot"] == SLOT
    return parse_lsn(value["value"])


def slot_lsn(shop: Conn) -> int:
    row = shop.execute(
        "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = %s", (SLOT,)
    ).fetchone()
    assert row is not None
    return parse_lsn(str(row[0]))


def seed(shop: Conn, ids: range) -> None:
    shop.execute(
        "INSERT INTO sales.orders SELECT i, 'customer ' || i, i * 1.25, i %% 2 = 0, "
        "DATE '2024-01-01' + i, CASE WHEN i %% 3 = 0 THEN NULL ELSE 'note ' || i END "
        "FROM generate_series(%s::int, %s::int) AS i",
        (ids.start, ids.stop - 1),
    )


def traffic(shop: Conn, rng: random.Random, next_id: int) -> int:
    """One round of application writes; returns the next unused id."""
    existing = [r[0] for r in shop.execute("SELECT id FROM sales.orders ORDER BY id").fetchall()]
    picked = rng.sample(existing, min(6, len(existing)))
    with shop.transaction():  # several statements, one transaction
        seed(shop, range(next_id, next_id + 3))
        shop.execute(
            "UPDATE sales.orders SET amount = amount + 1, note = 'changed' WHERE id = %s",
            (picked[0],),
        )
        shop.execute("DELETE FROM sales.orders WHERE id = %s", (picked[1],))
    shop.execute("UPDATE sales.orders SET paid = NOT paid WHERE id = %s", (picked[2],))
    shop.execute("UPDATE sales.orders SET note = NULL, amount = NULL WHERE id = %s", (picked[3],))
    # The key changes: the old key's row must go.
    shop.execute("UPDATE sales.orders SET id = %s WHERE id = %s", (next_id + 3, picked[4]))
    # Deleted and inserted again under the same key, in one transaction.
    with shop.transaction():
        shop.execute("DELETE FROM sales.orders WHERE id = %s", (picked[5],))
        shop.execute(
            "INSERT INTO sales.orders VALUES (%s, 'reborn', 9.99, true, '2030-01-01', 'again')",
            (picked[5],),
        )
    with shop.transaction(force_rollback=True):  # never committed: never loaded
        shop.execute("DELETE FROM sales.orders")
    shop.execute("INSERT INTO sales.audit (what) VALUES ('another table')")
    return next_id + 4


# --- the first run --------------------------------------------------------------------------


def test_the_first_run_loads_a_snapshot_of_the_existing_rows(
    project: Path, registry: Registry, write_pipeline: WritePipeline, shop: Conn
) -> None:
    seed(shop, range(1, 11))  # written before any slot exists: only a snapshot can see them

    first = step_of(run(registry, write_pipeline(pipeline())))

    assert target(project) == source_rows(shop)
    assert first.rows_inserted == 10
    assert any(note.startswith("snapshot of sales.orders: 10 row(s)") for note in first.notes)
    assert stored_lsn(project) == slot_lsn(shop)
    assert warehouse(project, "SELECT DISTINCT _sluiceway_op FROM orders") == [("insert",)]


def test_an_empty_table_snapshots_to_an_empty_target(
    project: Path, registry: Registry, write_pipeline: WritePipeline, shop: Conn
) -> None:
    path = write_pipeline(pipeline())
    step_of(run(registry, path))
    assert target(project) == []

    seed(shop, range(1, 4))
    second = step_of(run(registry, path))
    assert second.rows_inserted == 3
    assert target(project) == source_rows(shop)


# --- changes, round after round --------------------------------------------------------------


def test_rounds_of_traffic_keep_the_target_equal_to_the_source(
    project: Path, registry: Registry, write_pipeline: WritePipeline, shop: Conn
) -> None:
    seed(shop, range(1, 21))
    path = write_pipeline(pipeline())
    step_of(run(registry, path))
    rng = random.Random(7)
    next_id = 100
    for _ in range(4):
        next_id = traffic(shop, rng, next_id)
        step = step_of(run(registry, path))

        assert target(project) == source_rows(shop)
        assert stored_lsn(project) == slot_lsn(shop)
        assert any(" change(s) to sales.orders in " in note for note in step.notes)


def test_changes_made_while_the_snapshot_is_taken_are_absorbed(
    project: Path, registry: Registry, write_pipeline: WritePipeline, shop: Conn
) -> None:
    """Changes between the slot's creation and the snapshot arrive twice: in the snapshot and
    as changes. Replayed on top of the snapshot by the merge, they leave the source's rows."""
    seed(shop, range(1, 11))
    path = write_pipeline(pipeline())
    spec = registry.load(path).spec.sources["orders"]
    assert isinstance(spec, PostgresCdcSpec)
    with psycopg.connect(spec.connection.get_secret_value(), autocommit=True) as dba:
        dba.execute("SELECT pg_create_logical_replication_slot(%s, 'wal2json')", (SLOT,))
    shop.execute("UPDATE sales.orders SET note = 'between' WHERE id <= 3")
    shop.execute("DELETE FROM sales.orders WHERE id IN (4, 5)")
    seed(shop, range(11, 13))

    step_of(run(registry, path))  # the snapshot already holds all of the above
    assert target(project) == source_rows(shop)
    second = step_of(run(registry, path))  # ... and now they come again, as changes

    assert second.rows_read == 7
    assert target(project) == source_rows(shop)


def test_a_run_without_new_changes_loads_nothing(
    project: Path, registry: Registry, write_pipeline: WritePipeline, shop: Conn
) -> None:
    seed(shop, range(1, 6))
    path = write_pipeline(pipeline())
    step_of(run(registry, path))
    shop.execute("UPDATE sales.orders SET note = 'x' WHERE id = 1")
    step_of(run(registry, path))
    before = warehouse(project, CHECKSUM)
    loads = warehouse(project, "SELECT count(*) FROM _sluiceway.loads")

    again = step_of(run(registry, path))

    assert again.rows_read == 0
    assert again.load_id is None
    assert again.notes[0].startswith(f"nothing to load: no new changes in slot {SLOT}")
    assert warehouse(project, CHECKSUM) == before
    assert warehouse(project, "SELECT count(*) FROM _sluiceway.loads") == loads
    assert stored_lsn(project) == slot_lsn(shop)


def test_changes_to_other_tables_only_move_the_position(
    project: Path, registry: Registry, write_pipeline: WritePipeline, shop: Conn
) -> None:
    seed(shop, range(1, 4))
    path = write_pipeline(pipeline())
    step_of(run(registry, path))
    before = warehouse(project, CHECKSUM)
    position = stored_lsn(project)
    shop.execute("INSERT INTO sales.audit (what) VALUES ('not followed')")

    quiet = step_of(run(registry, path))

    assert quiet.notes[0].startswith("nothing to load: no changes to sales.orders in slot")
    assert warehouse(project, CHECKSUM) == before
    # The slot moves past the other table's transaction (its WAL can be recycled), and the
    # stored position with it, so the next run does not see a slot ahead of the warehouse.
    assert stored_lsn(project) == slot_lsn(shop) > position
    shop.execute("UPDATE sales.orders SET note = 'after' WHERE id = 2")
    step_of(run(registry, path))
    assert target(project) == source_rows(shop)


def test_a_truncate_empties_the_target_before_the_rows_after_it(
    project: Path, registry: Registry, write_pipeline: WritePipeline, shop: Conn
) -> None:
    seed(shop, range(1, 8))
    path = write_pipeline(pipeline())
    step_of(run(registry, path))
    shop.execute("UPDATE sales.orders SET note = 'gone soon' WHERE id = 1")
    shop.execute("TRUNCATE sales.orders")
    seed(shop, range(5, 7))
    shop.execute("UPDATE sales.orders SET note = 'kept' WHERE id = 6")

    step_of(run(registry, path))

    assert target(project) == source_rows(shop)


def test_scd2_keeps_every_version_and_closes_deleted_keys(
    project: Path, registry: Registry, write_pipeline: WritePipeline, shop: Conn
) -> None:
    seed(shop, range(1, 4))
    path = write_pipeline(pipeline(write="scd2"))
    step_of(run(registry, path))
    shop.execute("UPDATE sales.orders SET note = 'v2' WHERE id = 1")
    shop.execute("UPDATE sales.orders SET note = 'v3' WHERE id = 1")
    shop.execute("DELETE FROM sales.orders WHERE id = 2")

    step_of(run(registry, path))

    current = warehouse(project, f"SELECT {COLUMNS} FROM orders WHERE is_current ORDER BY id")
    assert current == source_rows(shop)
    history = "SELECT note FROM orders WHERE id = 1 ORDER BY valid_from"
    assert warehouse(project, history) == [("note 1",), ("v2",), ("v3",)]
    assert warehouse(project, "SELECT count(*) FROM orders WHERE id = 2 AND is_current") == [(0,)]


# --- exactly once ----------------------------------------------------------------------------


class Crash(BaseException):
    """The process dies: raised where nothing catches it."""


def test_a_crash_between_commit_and_confirm_loads_nothing_twice(
    project: Path,
    registry: Registry,
    write_pipeline: WritePipeline,
    shop: Conn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With `write: append` the table is a log of the changes: a change loaded twice would be
    two rows."""
    seed(shop, range(1, 4))
    path = write_pipeline(pipeline(write="append"))
    step_of(run(registry, path))
    shop.execute("UPDATE sales.orders SET note = 'first' WHERE id = 1")
    shop.execute("DELETE FROM sales.orders WHERE id = 2")
    confirmed_before = slot_lsn(shop)

    def crash(self: CdcReader, slot: str, lsn: int) -> None:
        raise Crash

    with monkeypatch.context() as patched:
        patched.setattr(CdcReader, "_confirm", crash)
        with pytest.raises(Crash):
            run(registry, path)

    # The warehouse committed the changes and their end; the slot never heard of it.
    assert stored_lsn(project) > slot_lsn(shop) == confirmed_before
    log = "SELECT _sluiceway_op, id FROM orders WHERE _sluiceway_op <> 'insert' ORDER BY 1, 2"
    assert warehouse(project, log) == [("delete", 2), ("truncate", None), ("update", 1)]

    shop.execute("UPDATE sales.orders SET note = 'second' WHERE id = 3")
    after = step_of(run(registry, path))

    assert after.rows_read == 1
    assert any("moved to the loaded position" in note for note in after.notes)
    assert warehouse(project, log) == [
        ("delete", 2),
        ("truncate", None),
        ("update", 1),
        ("update", 3),
    ]
    once = "SELECT count(*), count(DISTINCT (_sluiceway_lsn, _sluiceway_seq)) FROM orders"
    ((rows, distinct),) = warehouse(project, once)
    assert rows == distinct
    assert stored_lsn(project) == slot_lsn(shop)


def test_a_failed_load_leaves_the_slot_and_the_state_where_they_were(
    project: Path, registry: Registry, write_pipeline: WritePipeline, shop: Conn
) -> None:
    seed(shop, range(1, 4))
    path = write_pipeline(pipeline())
    step_of(run(registry, path))
    position = stored_lsn(project)
    shop.execute("UPDATE sales.orders SET amount = -5 WHERE id = 1")
    failing = pipeline(extra="checks: [{rule: range, column: amount, min: 0, on_fail: fail}]")

    result = run(registry, write_pipeline(failing))

    assert result.status is RunStatus.FAILED
    assert stored_lsn(project) == position == slot_lsn(shop)
    path = write_pipeline(pipeline())
    assert step_of(run(registry, path)).rows_read == 1  # read again, then loaded
    assert target(project) == source_rows(shop)


# --- when the positions disagree -------------------------------------------------------------


def test_a_slot_ahead_of_the_warehouse_is_refused_until_the_state_is_reset(
    project: Path, registry: Registry, write_pipeline: WritePipeline, shop: Conn
) -> None:
    seed(shop, range(1, 6))
    path = write_pipeline(pipeline())
    step_of(run(registry, path))
    shop.execute("DELETE FROM sales.orders WHERE id = 1")
    shop.execute("UPDATE sales.orders SET note = 'lost' WHERE id = 2")
    # Someone else consumes the slot: these changes never reach the warehouse.
    shop.execute("SELECT pg_replication_slot_advance(%s, pg_current_wal_lsn())", (SLOT,))
    before = warehouse(project, CHECKSUM)

    result = run(registry, path)

    (step,) = result.steps
    assert isinstance(step.error, SourceError)
    assert step.error.error_class is ErrorClass.TERMINAL
    assert f"replication slot {SLOT!r} is confirmed up to LSN" in step.error.message
    assert "never loaded" in step.error.message
    assert step.error.hint is not None
    assert "sluiceway state reset --source orders" in step.error.hint
    assert warehouse(project, CHECKSUM) == before

    reset = CliRunner().invoke(app, ["state", "reset", "--source", "orders", "--yes"])
    assert reset.exit_code == 0, reset.output
    step_of(run(registry, path))  # a fresh snapshot, which empties the table first

    assert target(project) == source_rows(shop)
    assert stored_lsn(project) == slot_lsn(shop)


def test_a_dead_server_is_a_transient_error_and_changes_nothing(
    project: Path,
    registry: Registry,
    write_pipeline: WritePipeline,
    shop: Conn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(shop, range(1, 4))
    path = write_pipeline(pipeline())
    step_of(run(registry, path))
    before = warehouse(project, CHECKSUM)
    position = stored_lsn(project)
    monkeypatch.setenv("SHOP_DB", "postgresql://cdc:s3cret-pw@127.0.0.1:1/shop")

    result = run(registry, path)

    (step,) = result.steps
    assert isinstance(step.error, SourceUnavailableError)
    assert step.error.error_class is ErrorClass.TRANSIENT
    assert "cannot connect to PostgreSQL at 127.0.0.1:1" in step.error.message
    assert "s3cret-pw" not in str(step.error)
    assert warehouse(project, CHECKSUM) == before
    assert stored_lsn(project) == position


# --- configuration ----------------------------------------------------------------------------


def test_the_primary_key_must_be_the_source_tables_key(
    project: Path, registry: Registry, write_pipeline: WritePipeline, shop: Conn
) -> None:
    text = pipeline().replace("primary_key: [id]", "primary_key: [customer]")

    result = run(registry, write_pipeline(text))

    (step,) = result.steps
    assert isinstance(step.error, ConfigError)
    assert "is not the key of sales.orders (id)" in step.error.message
    assert step.error.hint is not None
    assert "`primary_key: [id]`" in step.error.hint
    # Nothing was created in the warehouse; the slot exists but holds no one back.
    assert warehouse(project, "SELECT count(*) FROM _sluiceway.state") == [(0,)]


def test_replace_is_refused(
    project: Path, registry: Registry, write_pipeline: WritePipeline, shop: Conn
) -> None:
    result = run(registry, write_pipeline(pipeline(write="replace")))

    (step,) = result.steps
    assert isinstance(step.error, ConfigError)
    assert "`write: replace` would replace the table's rows" in step.error.message


def test_a_missing_slot_is_created_unless_create_slot_is_off(
    project: Path, registry: Registry, write_pipeline: WritePipeline, shop: Conn
) -> None:
    result = run(registry, write_pipeline(pipeline(extra="create_slot: false")))

    (step,) = result.steps
    assert isinstance(step.error, ConfigError)
    assert f"replication slot {SLOT!r} does not exist" in step.error.message
    assert step.error.hint is not None
    assert "create_slot: true" in step.error.hint
    assert shop.execute("SELECT count(*) FROM pg_replication_slots").fetchone() == (0,)
