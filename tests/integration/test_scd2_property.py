"""SCD type 2 equals a reference history computed in plain Python, whatever the order the
changes arrive in: random loads of changes (values and deletions at distinct change times per
key, dealt into loads in any order, some loads re-run) give exactly the reference's versions.

On DuckDB (a new database per example) and on PostgreSQL (one database per test, fewer examples:
each example loads into a schema of its own)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from sluiceway.core.names import TableRef
from sluiceway.core.sql_quoting import quote_identifier as q
from sluiceway.spec.write import DeleteSpec, Scd2Spec
from sluiceway.warehouses.base import LoadRequest, Warehouse, WarehouseContext
from sluiceway.warehouses.duckdb.warehouse import DuckDBSpec, DuckDBWarehouse
from sluiceway.warehouses.postgres import PostgresSpec, PostgresWarehouse
from tests.integration.warehouse_targets import libpq_url

pytestmark = pytest.mark.integration

T0 = datetime(2024, 1, 1)
Change = tuple[int, int, str | None]  # key, change time (hours after T0), value (None: deleted)
Version = tuple[int, str, datetime, datetime | None, bool]


@st.composite
def histories(draw: st.DrawFn) -> list[list[Change]]:
    """Changes of keys 1-3 at distinct times per key, dealt into loads in random order."""
    changes: list[Change] = []
    for key in (1, 2, 3):
        times = draw(st.lists(st.integers(0, 40), unique=True, max_size=7))
        for at in times:
            value = draw(st.sampled_from(["a", "b", "c", None]))
            changes.append((key, at, value))
    order = draw(st.permutations(changes))
    cuts = sorted(draw(st.lists(st.integers(0, len(order)), max_size=3)))
    loads = [list(order[a:b]) for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True)]
    rerun: bool = draw(st.booleans())
    if rerun:  # a load runs twice
        again: list[Change] = draw(st.sampled_from(loads))
        loads.insert(draw(st.integers(0, len(loads))), again)
    return loads


def reference(loads: list[list[Change]]) -> set[Version]:
    """The history a load sequence must leave, computed in plain Python.

    Per key, the stored history is a list of entries (time, value), a deletion being the value
    None. Each load puts its changes on the list (a change wins over a stored entry at the same
    time), sorts it by time, then drops every entry equal to the one before it and a deletion
    with nothing before it. A version lasts until the next entry. What is dropped is gone:
    a row equal to the version before it is absorbed, and a deletion that arrives before any
    version of its key is nothing (the documented limits of a hash-compared history).
    """
    stored: dict[int, list[tuple[int, str | None]]] = {1: [], 2: [], 3: []}
    for changes in loads:
        for key, entries in stored.items():
            timeline = dict(entries)
            timeline.update({at: value for k, at, value in changes if k == key})
            kept: list[tuple[int, str | None]] = []
            for at, value in sorted(timeline.items()):
                previous = kept[-1][1] if kept else None
                if (value == previous and kept) or (value is None and not kept):
                    continue
                kept.append((at, value))
            stored[key] = kept
    versions: set[Version] = set()
    for key, entries in stored.items():
        for index, (at, value) in enumerate(entries):
            if value is None:
                continue
            after = entries[index + 1][0] if index + 1 < len(entries) else None
            end = T0 + timedelta(hours=after) if after is not None else None
            versions.add((key, value, T0 + timedelta(hours=at), end, end is None))
    return versions


def load(warehouse: Warehouse[Any], number: int, changes: list[Change], *, table: TableRef) -> None:
    rows = pa.table(
        {
            "k": pa.array([c[0] for c in changes], pa.int64()),
            "ts": pa.array([T0 + timedelta(hours=c[1]) for c in changes], pa.timestamp("us")),
            "v": pa.array([c[2] for c in changes], pa.string()),
            "gone": pa.array([c[2] is None for c in changes], pa.bool_()),
        }
    )
    request = LoadRequest(
        load_id=f"load{number}",
        run_id="run",
        pipeline="p",
        source="s",
        table=table,
        write="scd2",
        primary_key=("k",),
        lineage=False,
        delete=DeleteSpec(column="gone"),
        scd2=Scd2Spec(changed_at="ts"),
    )
    with warehouse.begin(request) as pending:
        pending.stage(rows.to_reader())
        pending.commit([])


def history(warehouse: Warehouse[Any], table: TableRef) -> set[Version]:
    """The versions the table holds."""
    where = ".".join(q(part) for part in (table.schema, table.name) if part)
    rows = warehouse.query(f"SELECT k, v, valid_from, valid_to, is_current FROM {where}")
    return {
        (r["k"], r["v"], r["valid_from"], r["valid_to"], r["is_current"]) for r in rows.to_pylist()
    }


def replay(warehouse: Warehouse[Any], loads: list[list[Change]], table: TableRef) -> set[Version]:
    """Load every batch in turn; the history left (none when no load had a row)."""
    for number, changes in enumerate(loads):
        load(warehouse, number, changes, table=table)
    return history(warehouse, table) if loads and any(loads) else set()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_scd2_history_matches_replaying_every_change_in_time_order(
    loads: list[list[Change]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        warehouse = DuckDBWarehouse(
            DuckDBSpec(type="duckdb", path=str(root / "w.duckdb")),
            WarehouseContext(root, lambda p: root / p),
        )
        with warehouse:
            warehouse.open()
            stored = replay(warehouse, loads, TableRef("dim"))
    assert stored == reference(loads)


@pytest.fixture
def pg_warehouse(pg_url: str, tmp_path: Path) -> Iterator[PostgresWarehouse]:
    """An open PostgreSQL warehouse on this test's own database."""
    spec = PostgresSpec(type="postgres", connection=SecretStr(libpq_url(pg_url)))
    warehouse = PostgresWarehouse(spec, WarehouseContext(tmp_path, lambda p: tmp_path / p))
    warehouse.open()
    yield warehouse
    warehouse.close()


# The warehouse (one database) serves every example: each loads into a new schema of its own.
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(loads=histories())
def test_scd2_history_on_postgres_matches_replaying_every_change_in_time_order(
    pg_warehouse: PostgresWarehouse, loads: list[list[Change]]
) -> None:
    table = TableRef("dim", f"h_{uuid.uuid4().hex[:12]}")
    assert replay(pg_warehouse, loads, table) == reference(loads)
