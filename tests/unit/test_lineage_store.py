"""Models' versions and lineage in the metadata store, on SQLite.

:class:`LineageStoreContract` holds the tests; each backend's module subclasses it with its own
``store`` fixture (PostgreSQL: ``tests/integration/test_lineage_store_postgres.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sluiceway.core.errors import ConfigError
from sluiceway.meta import MetaStore
from sluiceway.meta.lineage_store import (
    load_graph,
    model_history,
    record_lineage,
    record_load_lineage,
    record_model_version,
    sql_hash,
)
from sluiceway.transform.lineage import (
    ColumnLineage,
    ColumnRef,
    LineageGraph,
    TableEdge,
    column_lineage,
    table_lineage,
)

pytestmark = pytest.mark.unit

SILVER_V1 = "SELECT id, amount * 100 AS amount_cents FROM bronze.orders"
SILVER_V2 = "SELECT id, ROUND(amount) AS amount_cents, status FROM bronze.orders"
GOLD = "SELECT COUNT(*) AS orders, SUM(amount_cents) AS revenue FROM silver.orders"
COLUMNS = [{"name": "id", "type": "INTEGER"}, {"name": "amount_cents", "type": "DOUBLE"}]


def register(store: MetaStore, model: str, target: str, sql: str) -> int:
    """Record a SQL model's version and its lineage, as the model runner does."""
    version = record_model_version(
        store,
        model=model,
        sql=sql,
        materialization="table",
        config={"target": target},
        columns=COLUMNS,
        run_id=None,
    )
    record_lineage(
        store,
        model=model,
        version=version,
        columns=column_lineage(sql, target=target),
        target=target,
        tables=table_lineage(sql, target=target, detail=model),
    )
    return version


def edges(graph: LineageGraph) -> list[tuple[str, str, str, str]]:
    return [(str(e.source), str(e.target), e.kind, e.expression) for e in graph.column_edges()]


class LineageStoreContract:
    """Subclass and override the ``store`` fixture."""

    @pytest.fixture
    def store(self) -> Iterator[MetaStore]:
        raise NotImplementedError

    def test_a_version_is_added_only_when_the_model_changes(self, store: MetaStore) -> None:
        def record(sql: str, *, materialization: str = "table", retries: int = 1) -> int:
            return record_model_version(
                store,
                model="silver_orders",
                sql=sql,
                materialization=materialization,
                config={"retries": retries, "tags": ("a", "b")},
                columns=COLUMNS,
                run_id="01JAAAAAAAAAAAAAAAAAAAAAA1",
            )

        assert record(SILVER_V1) == 1
        assert record(SILVER_V1) == 1
        assert record(SILVER_V2) == 2
        assert record(SILVER_V2, retries=2) == 3
        assert record(SILVER_V2, retries=2, materialization="view") == 4
        assert record(SILVER_V2, retries=2, materialization="view") == 4
        assert record(SILVER_V1) == 5  # back to the first SQL: a new version, not version 1

        history = model_history(store, "silver_orders")
        assert [v.version for v in history] == [1, 2, 3, 4, 5]
        first = history[0]
        assert first.sql == SILVER_V1
        assert first.sql_hash == sql_hash(SILVER_V1)
        assert len(first.sql_hash) == 64
        assert first.config == {"retries": 1, "tags": ["a", "b"]}
        assert first.columns == COLUMNS
        assert first.materialization == "table"
        assert first.run_id == "01JAAAAAAAAAAAAAAAAAAAAAA1"
        assert first.created_at.tzinfo is not None
        assert model_history(store, "never_ran") == []

    def test_a_change_of_columns_alone_is_not_a_new_version(self, store: MetaStore) -> None:
        def record(columns: list[dict[str, str]]) -> int:
            return record_model_version(
                store,
                model="m",
                sql=SILVER_V1,
                materialization="table",
                config={},
                columns=columns,
                run_id=None,
            )

        assert record(COLUMNS) == 1
        assert record([{"name": "id", "type": "BIGINT"}]) == 1

    def test_bad_arguments_are_refused(self, store: MetaStore) -> None:
        with pytest.raises(ValueError, match="plain JSON"):
            record_model_version(
                store,
                model="m",
                sql="SELECT 1",
                materialization="table",
                config={"bad": float("nan")},
                columns=[],
                run_id=None,
            )
        with pytest.raises(ValueError, match="needs a name"):
            record_model_version(
                store,
                model="m",
                sql="SELECT 1",
                materialization="table",
                config={},
                columns=[{"type": "INTEGER"}],
                run_id=None,
            )
        with pytest.raises(ValueError, match=r"goes into gold\.y, not gold\.x"):
            record_lineage(
                store,
                model="m",
                version=1,
                columns=[],
                target="gold.x",
                tables=[TableEdge("silver.a", "gold.y", "model")],
            )

    def test_the_graph_is_rebuilt_from_the_latest_versions(self, store: MetaStore) -> None:
        record_load_lineage(store, source_desc="files:data/orders/*.csv", target="Bronze.Orders")
        assert register(store, "silver_orders", "silver.orders", SILVER_V1) == 1
        assert register(store, "gold_kpis", "gold.kpis", GOLD) == 1
        assert register(store, "silver_orders", "silver.orders", SILVER_V2) == 2

        graph = load_graph(store)
        assert set(edges(graph)) == {
            (
                "silver.orders.amount_cents",
                "gold.kpis.revenue",
                "aggregate",
                "SUM(silver.orders.amount_cents)",
            ),
            ("bronze.orders.id", "silver.orders.id", "identity", "bronze.orders.id"),
            (
                "bronze.orders.amount",
                "silver.orders.amount_cents",
                "derived",
                "ROUND(bronze.orders.amount)",
            ),
            ("bronze.orders.status", "silver.orders.status", "identity", "bronze.orders.status"),
        }
        assert graph.tables() == [
            "files:data/orders/*.csv",
            "bronze.orders",
            "silver.orders",
            "gold.kpis",
        ]
        assert [str(c) for c in graph.columns("gold.kpis")] == [
            "gold.kpis.orders",
            "gold.kpis.revenue",
        ]
        assert [str(c) for c in graph.impact("bronze.orders.amount")] == [
            "silver.orders.amount_cents",
            "gold.kpis.revenue",
        ]
        # COUNT(*) has no source column; its table's sources lead up to the load.
        upstream = [node.name for node in graph.upstream("gold.kpis.orders").walk()]
        assert upstream == [
            "gold.kpis.orders",
            "silver.orders",
            "bronze.orders",
            "files:data/orders/*.csv",
        ]

    def test_the_stored_graph_equals_the_graph_built_in_memory(self, store: MetaStore) -> None:
        declared = [
            ColumnLineage(
                "score", (ColumnRef("silver.orders", "amount_cents"),), "f(x)", "derived"
            ),
            ColumnLineage("run_at", (), "now()", "constant"),
        ]
        transform_edge = TableEdge("silver.orders", "gold.scores", "transform", "score.py:f")
        record_load_lineage(
            store, source_desc="rest:https://api.example.com/orders", target="bronze.orders"
        )
        register(store, "silver_orders", "silver.orders", SILVER_V1)
        record_lineage(
            store,
            model="scores",
            version=1,
            columns=declared,
            target="gold.scores",
            tables=[transform_edge],
        )

        expected = LineageGraph()
        expected.add_table_edge(
            TableEdge("rest:https://api.example.com/orders", "bronze.orders", "load")
        )
        expected.add_model(
            "silver.orders",
            column_lineage(SILVER_V1, target="silver.orders"),
            table_lineage(SILVER_V1, target="silver.orders", detail="silver_orders"),
        )
        expected.add_model("gold.scores", declared, [transform_edge])

        stored = load_graph(store)
        assert set(stored.column_edges()) == set(expected.column_edges())
        assert set(stored.table_edges()) == set(expected.table_edges())
        assert stored.tables() == expected.tables()
        for table in expected.tables():
            assert stored.columns(table) == expected.columns(table)
        assert stored.to_mermaid() == expected.to_mermaid()

    def test_recording_lineage_again_replaces_that_versions_edges(self, store: MetaStore) -> None:
        version = register(store, "silver_orders", "silver.orders", SILVER_V1)
        record_lineage(
            store,
            model="silver_orders",
            version=version,
            columns=[
                ColumnLineage(
                    "id", (ColumnRef("bronze.orders", "id"),), "bronze.orders.id", "identity"
                )
            ],
            target="silver.orders",
        )
        assert edges(load_graph(store)) == [
            ("bronze.orders.id", "silver.orders.id", "identity", "bronze.orders.id")
        ]
        assert load_graph(store).table_edges() == [
            TableEdge("bronze.orders", "silver.orders", "model")
        ]

    def test_load_lineage_is_idempotent(self, store: MetaStore) -> None:
        for _ in range(3):
            record_load_lineage(store, source_desc="files:a/*.csv", target="bronze.a")
        record_load_lineage(store, source_desc="files:b/*.csv", target="bronze.a")
        graph = load_graph(store)
        assert graph.table_edges() == [
            TableEdge("files:a/*.csv", "bronze.a", "load"),
            TableEdge("files:b/*.csv", "bronze.a", "load"),
        ]
        with pytest.raises(ValueError, match="source description is required"):
            record_load_lineage(store, source_desc=" ", target="bronze.a")

    def test_a_stored_cycle_is_reported_when_the_graph_is_loaded(self, store: MetaStore) -> None:
        register(store, "silver_orders", "silver.orders", SILVER_V1)
        register(
            store,
            "orders_back",
            "bronze.orders",
            "SELECT amount_cents AS amount FROM silver.orders",
        )
        with pytest.raises(ConfigError, match="cycle"):
            load_graph(store)

    def test_an_empty_store_has_an_empty_graph(self, store: MetaStore) -> None:
        graph = load_graph(store)
        assert graph.tables() == []
        assert graph.to_mermaid() == "flowchart LR\n"


class TestLineageStoreSqlite(LineageStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[MetaStore]:
        with MetaStore.for_state_dir(tmp_path / ".sluiceway") as opened:
            yield opened
