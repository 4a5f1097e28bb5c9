"""The query plan of each model step, stored with its run (``models.explain``), on DuckDB and
PostgreSQL: measured with ``analyze``, not captured with ``off``, a failure noted not fatal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sluiceway.core.errors import WarehouseError
from sluiceway.core.events import EventBus
from sluiceway.core.status import RunStatus
from sluiceway.engine.registry import Registry
from sluiceway.engine.runner import PipelineRunner, RunResult
from sluiceway.meta import plans
from sluiceway.meta.store import MetaStore
from sluiceway.observe.meta_recorder import MetaRecorder
from sluiceway.warehouses.base import Warehouse
from sluiceway.warehouses.duckdb.warehouse import DuckDBWarehouse
from sluiceway.warehouses.postgres.warehouse import PostgresWarehouse
from tests.conftest import WritePipeline, write
from tests.integration.warehouse_targets import Target

pytestmark = pytest.mark.integration


@pytest.fixture
def shop(project: Path, target: Target, write_pipeline: WritePipeline) -> Path:
    write(project / "orders.csv", "order_id,customer_id,amount\n1,10,5.5\n2,10,3.0\n3,11,7.25\n")
    write(
        project / "models" / "gold" / "revenue.sql",
        """
        /* {materialized: table, explain: analyze} */
        SELECT customer_id, sum(amount) AS revenue FROM bronze.orders GROUP BY customer_id
        """,
    )
    write(project / "models" / "gold" / "orders_view.sql", "SELECT * FROM bronze.orders\n")
    write(
        project / "models" / "gold" / "quiet.sql",
        "/* {materialized: table, explain: 'off'} */\nSELECT count(*) AS n FROM bronze.orders\n",
    )
    write_pipeline(
        f"""
        pipeline: shop
        sources:
          orders: {{type: csv, path: orders.csv, table: bronze.orders}}
        {target.yaml(8).strip()}
        """
    )
    return project


def run(project: Path, registry: Registry) -> tuple[RunResult, list[plans.StepPlan]]:
    pipeline = registry.load(project / "sluiceway.yaml")
    bus = EventBus()
    with MetaStore.for_state_dir(pipeline.state_dir) as store:
        bus.subscribe(MetaRecorder(store))
        result = PipelineRunner(pipeline, registry=registry, bus=bus).run()
        return result, plans.list_plans(store, result.run_id)


def test_each_model_steps_plan_is_stored_with_its_run(
    shop: Path, target: Target, registry: Registry
) -> None:
    result, stored = run(shop, registry)

    assert result.status is RunStatus.SUCCEEDED, [str(s.error) for s in result.steps]
    by_step = {p.step: p for p in stored}
    assert sorted(by_step) == ["gold.orders_view", "gold.revenue"]  # not quiet, not the load
    revenue = by_step["gold.revenue"]
    assert (revenue.attempt, revenue.analyzed, revenue.error) == (1, True, None)
    assert revenue.dialect == target.engine
    text = json.dumps(revenue.plan)
    measured = {  # PostgreSQL: EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
        "postgres": ['"Actual Rows"', '"Shared Hit Blocks"'],
        "duckdb": ['"timing"', '"intermediate_rows"'],
    }[target.engine]
    assert [key for key in measured if key not in text] == []
    view = by_step["gold.orders_view"]
    assert (view.analyzed, view.error) == (False, None)
    assert "orders" in json.dumps(view.plan).lower()


def test_a_query_the_warehouse_cannot_explain_is_noted_and_the_model_still_builds(
    shop: Path, target: Target, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Warehouse[Any], sql: str, *, analyze: bool = False) -> Any:
        raise WarehouseError("explain failed: the planner is out for lunch")

    for kind in (DuckDBWarehouse, PostgresWarehouse):
        monkeypatch.setattr(kind, "explain", refuse)

    result, stored = run(shop, registry)

    assert result.status is RunStatus.SUCCEEDED, [str(s.error) for s in result.steps]
    assert {(p.step, p.plan, p.error) for p in stored} == {
        ("gold.revenue", None, "explain failed: the planner is out for lunch"),
        ("gold.orders_view", None, "explain failed: the planner is out for lunch"),
    }
    assert [int(n) for (n,) in target.rows("SELECT n FROM gold.quiet")] == [3]
