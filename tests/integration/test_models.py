"""SQL models on DuckDB and PostgreSQL: discovery, the DAG, every materialization, checks on a
model, `--select model+`, and the same results on both engines."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sluiceway.core.errors import ConfigError, DataError
from sluiceway.core.events import EventBus
from sluiceway.core.status import RunStatus, StepStatus
from sluiceway.engine.registry import Registry
from sluiceway.engine.runner import PipelineRunner, RunResult
from sluiceway.transform.models import discover_models
from tests.conftest import WritePipeline, write
from tests.integration.warehouse_targets import Target

pytestmark = pytest.mark.integration


ORDERS = """\
order_id,customer_id,amount,ts
1,10,5.50,2024-01-01 10:00:00
2,10,3.00,2024-01-02 11:00:00
3,11,7.25,2024-01-03 12:00:00
"""


@pytest.fixture
def shop(project: Path, target: Target, write_pipeline: WritePipeline) -> Path:
    write(project / "orders.csv", ORDERS)
    write(
        project / "models" / "silver" / "orders.sql",
        """
        /*
        materialized: incremental
        unique_key: order_id
        time_column: ts
        checks:
          - {rule: not_null, column: customer_id}
        */
        SELECT order_id, customer_id, amount, ts FROM bronze.orders
        """,
    )
    write(
        project / "models" / "gold" / "revenue.sql",
        """
        /* {materialized: table} */
        WITH per_customer AS (
          SELECT customer_id, sum(amount) AS revenue, count(*) AS orders
          FROM silver.orders GROUP BY ALL
        )
        SELECT customer_id, revenue, orders FROM per_customer
        """,
    )
    write(
        project / "models" / "gold" / "top.sql",
        "SELECT customer_id, revenue FROM gold.revenue ORDER BY revenue DESC LIMIT 1\n",
    )
    write(
        project / "models" / "gold" / "history.sql",
        """
        /* {materialized: scd2, unique_key: customer_id} */
        SELECT customer_id, revenue FROM gold.revenue
        """,
    )
    write_pipeline(
        f"""
        pipeline: shop
        sources:
          orders:
            type: csv
            path: orders.csv
            table: bronze.orders
            write: merge
            primary_key: [order_id]
            columns: {{amount: "DECIMAL(10,2)", ts: TIMESTAMP}}
        {target.yaml(8).strip()}
        """
    )
    return project


def run(project: Path, registry: Registry, select: list[str] | None = None) -> RunResult:
    pipeline = registry.load(project / "sluiceway.yaml")
    return PipelineRunner(pipeline, registry=registry, bus=EventBus()).run(select)


def revenue(target: Target) -> list[tuple[Any, ...]]:
    rows = target.rows("SELECT customer_id, revenue, orders FROM gold.revenue ORDER BY 1")
    return [(int(c), Decimal(str(r)), int(n)) for c, r, n in rows]


def test_models_run_after_what_they_read_in_every_materialization(
    shop: Path, target: Target, registry: Registry
) -> None:
    result = run(shop, registry)
    assert result.status is RunStatus.SUCCEEDED, [str(s.error) for s in result.steps]
    assert [s.name for s in result.steps] == [
        "orders",
        "silver.orders",
        "gold.revenue",
        "gold.history",
        "gold.top",
    ]
    assert revenue(target) == [(10, Decimal("8.50"), 2), (11, Decimal("7.25"), 1)]
    assert target.rows("SELECT customer_id FROM gold.top") == [(10,)]  # a view
    history = target.rows("SELECT customer_id, is_current FROM gold.history ORDER BY customer_id")
    assert [(int(c), bool(i)) for c, i in history] == [(10, True), (11, True)]
    # The model's table has its own lineage columns, not bronze's.
    loads = target.rows("SELECT DISTINCT _sluiceway_load_id FROM silver.orders")
    assert loads == [(result.steps[1].load_id,)]


def test_an_incremental_model_merges_changes_and_history_keeps_versions(
    shop: Path, target: Target, registry: Registry
) -> None:
    assert run(shop, registry).status is RunStatus.SUCCEEDED
    write(
        shop / "orders.csv",
        ORDERS.replace("3,11,7.25,2024-01-03 12:00:00", "3,11,9.75,2024-01-04 09:00:00")
        + "4,12,1.00,2024-01-05 08:00:00\n",
    )
    second = run(shop, registry)
    assert second.status is RunStatus.SUCCEEDED
    silver = next(s for s in second.steps if s.name == "silver.orders")
    assert (silver.rows_read, silver.rows_inserted, silver.rows_updated) == (2, 1, 1)
    assert revenue(target) == [
        (10, Decimal("8.50"), 2),
        (11, Decimal("9.75"), 1),
        (12, Decimal("1.00"), 1),
    ]
    history = target.rows("SELECT customer_id, revenue, is_current FROM gold.history ORDER BY 1, 3")
    assert [(int(c), Decimal(str(r)), bool(i)) for c, r, i in history] == [
        (10, Decimal("8.50"), True),
        (11, Decimal("7.25"), False),
        (11, Decimal("9.75"), True),
        (12, Decimal("1.00"), True),
    ]


def test_a_failing_check_on_a_model_rolls_it_back_and_skips_what_reads_it(
    shop: Path, target: Target, registry: Registry
) -> None:
    write(shop / "orders.csv", ORDERS + "4,,1.00,2024-01-05 08:00:00\n")
    write(
        shop / "models" / "silver" / "orders.sql",
        """
        /*
        materialized: incremental
        unique_key: order_id
        checks:
          - {rule: not_null, column: customer_id, on_fail: fail}
        */
        SELECT order_id, customer_id, amount, ts FROM bronze.orders
        """,
    )
    result = run(shop, registry)
    statuses = {s.name: s.status for s in result.steps}
    assert statuses == {
        "orders": StepStatus.SUCCEEDED,
        "silver.orders": StepStatus.FAILED,
        "gold.revenue": StepStatus.SKIPPED,
        "gold.history": StepStatus.SKIPPED,
        "gold.top": StepStatus.SKIPPED,
    }
    failed = next(s for s in result.steps if s.name == "silver.orders")
    assert isinstance(failed.error, DataError)
    assert target.rows("SELECT count(*) FROM bronze.orders") == [(4,)]


def test_select_a_model_and_what_is_downstream(
    shop: Path, target: Target, registry: Registry
) -> None:
    assert run(shop, registry).status is RunStatus.SUCCEEDED
    again = run(shop, registry, ["gold.revenue+"])
    assert [s.name for s in again.steps] == ["gold.revenue", "gold.history", "gold.top"]
    upstream = run(shop, registry, ["+gold.revenue"])
    assert [s.name for s in upstream.steps] == ["orders", "silver.orders", "gold.revenue"]


def test_models_are_discovered_with_their_config(shop: Path, target: Target) -> None:
    del target
    models = {m.name: m for m in discover_models(shop, _models_spec())}
    assert sorted(models) == ["gold.history", "gold.revenue", "gold.top", "silver.orders"]
    silver = models["silver.orders"].config
    assert (silver.materialized, silver.unique_key, silver.time_column) == (
        "incremental",
        ["order_id"],
        "ts",
    )
    assert models["gold.revenue"].reads == ("silver.orders",)  # the CTE is not a table
    assert models["gold.top"].config.materialized == "view"


def _models_spec() -> Any:
    from sluiceway.spec.model import ModelsSpec

    return ModelsSpec()


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("/* {materialized: scd2} */", "`materialized: scd2` needs a `unique_key`"),
        ("/* {materialized: incremental} */", "needs a `unique_key`"),
        (
            "/* {materialized: view, checks: [{rule: not_null, column: a}]} */",
            "is not materialized",
        ),
        ("/* materialized: [ */", "not valid YAML"),
        ("/* {materialised: table} */", "materialised"),
    ],
)
def test_a_bad_model_config_is_a_clear_error(project: Path, header: str, message: str) -> None:
    write(project / "models" / "m.sql", f"{header}\nSELECT 1 AS a\n")
    from sluiceway.spec.model import ModelsSpec

    with pytest.raises(ConfigError, match=message) as raised:
        discover_models(project, ModelsSpec())
    assert raised.value.location is not None
    assert str(raised.value.location.file).endswith("m.sql")


def test_a_model_named_like_a_source_is_refused(
    project: Path, registry: Registry, write_pipeline: WritePipeline
) -> None:
    write(project / "a.csv", "x\n1\n")
    write(project / "models" / "orders.sql", "SELECT 1 AS x\n")
    write_pipeline(
        """
        pipeline: clash
        sources:
          orders: {type: csv, path: a.csv}
        """
    )
    with pytest.raises(ConfigError, match="'orders' names both a source and a model"):
        run(project, registry)


def test_timestamps_survive_the_round_trip(shop: Path, target: Target, registry: Registry) -> None:
    assert run(shop, registry).status is RunStatus.SUCCEEDED
    rows = target.rows("SELECT ts FROM silver.orders ORDER BY ts")
    assert [r[0].replace(tzinfo=None) for r in rows] == [
        datetime(2024, 1, 1, 10),
        datetime(2024, 1, 2, 11),
        datetime(2024, 1, 3, 12),
    ]


def test_an_unqualified_view_lands_in_the_default_schema(
    shop: Path, target: Target, registry: Registry
) -> None:
    write(
        shop / "models" / "big_spenders.sql",
        "SELECT customer_id FROM gold.revenue WHERE orders > 1\n",
    )
    result = run(shop, registry)
    assert result.status is RunStatus.SUCCEEDED
    assert target.rows("SELECT customer_id FROM big_spenders") == [(10,)]


def test_a_lookback_recomputes_late_rows_behind_the_cursor(
    shop: Path, target: Target, registry: Registry
) -> None:
    write(
        shop / "models" / "silver" / "orders.sql",
        """
        /* {materialized: incremental, unique_key: order_id, time_column: ts, lookback: 2d} */
        SELECT order_id, customer_id, amount, ts FROM bronze.orders
        """,
    )
    assert run(shop, registry).status is RunStatus.SUCCEEDED
    # A late order, a day behind the cursor (2024-01-03 12:00): inside the lookback.
    write(shop / "orders.csv", ORDERS + "5,12,2.00,2024-01-02 12:00:00\n")
    second = run(shop, registry)
    silver = next(s for s in second.steps if s.name == "silver.orders")
    assert silver.rows_inserted == 1
    assert target.rows("SELECT count(*) FROM silver.orders") == [(4,)]


def test_the_pipeline_file_config_wins_over_the_header(shop: Path, target: Target) -> None:
    del target
    from sluiceway.spec.model import ModelsSpec

    spec = ModelsSpec(config={"gold.top": {"materialized": "table"}})
    models = {m.name: m for m in discover_models(shop, spec)}
    assert models["gold.top"].config.materialized == "table"
    with pytest.raises(ConfigError, match=r"'gold\.nope', which no file"):
        discover_models(shop, ModelsSpec(config={"gold.nope": {}}))
    with pytest.raises(ConfigError, match="there is no models folder"):
        discover_models(shop, ModelsSpec(path="elsewhere", config={"gold.top": {}}))


def test_a_models_sum_of_decimals_stays_a_decimal_on_each_engine(
    shop: Path, target: Target, registry: Registry
) -> None:
    result = run(shop, registry)
    assert result.status is RunStatus.SUCCEEDED, [str(s.error) for s in result.steps]

    [(data_type, scale)] = target.rows(
        "SELECT data_type, numeric_scale FROM information_schema.columns "
        "WHERE table_schema = 'gold' AND table_name = 'revenue' AND column_name = 'revenue'"
    )

    # PostgreSQL's sum() of NUMERIC(10,2) declares no precision; it used to arrive as text
    assert (str(data_type).lower(), int(scale)) == {
        "duckdb": ("decimal(38,2)", 2),
        "postgres": ("numeric", 2),
    }[target.engine]


def test_more_parallel_models_than_pooled_connections_all_build(
    project: Path, target: Target, registry: Registry, write_pipeline: WritePipeline
) -> None:
    # PostgreSQL's pool holds 4 connections and 4 steps run at once: each model's stream
    # must not take a pooled connection its load then waits for
    for n in range(1, 6):
        write(
            project / "models" / "m" / f"t{n}.sql",
            f"/* {{materialized: table}} */\nSELECT {n} AS x\n",
        )
    write(project / "orders.csv", ORDERS)
    write_pipeline(
        f"""
        pipeline: many
        sources:
          orders: {{type: csv, path: orders.csv, table: bronze.orders}}
        execution: {{max_workers: 4}}
        {target.yaml(8).strip()}
        """
    )

    result = run(project, registry)

    assert result.status is RunStatus.SUCCEEDED, [str(s.error) for s in result.steps]
    built = [target.rows(f"SELECT x FROM m.t{n}") for n in range(1, 6)]
    assert [[int(x) for (x,) in rows] for rows in built] == [[1], [2], [3], [4], [5]]


def test_a_construct_with_no_translation_fails_the_model_naming_it_and_its_file(
    shop: Path, target: Target, registry: Registry
) -> None:
    model = shop / "models" / "gold" / "by_name.sql"
    write(
        model,
        "/* {materialized: table} */\n"
        "SELECT order_id FROM bronze.orders UNION ALL BY NAME SELECT order_id FROM bronze.orders\n",
    )

    result = run(shop, registry, ["orders", "gold.by_name"])

    step = next(s for s in result.steps if s.name == "gold.by_name")
    error = step.error if isinstance(step.error, ConfigError) else None
    outcome = (
        step.status,
        error.location.file if error is not None and error.location is not None else None,
        error.message.split(": ")[:2] if error is not None else [],
    )
    assert (
        outcome
        == {
            "duckdb": (StepStatus.SUCCEEDED, None, []),
            "postgres": (
                StepStatus.FAILED,
                str(model),
                ["model 'gold.by_name'", "its SQL cannot run on postgres"],
            ),
        }[target.engine]
    )


def test_a_model_can_turn_the_pipelines_profiling_off_or_on(
    shop: Path, target: Target, registry: Registry
) -> None:
    # gold.revenue profiles by the pipeline's default; gold.lean opts out; with the pipeline's
    # profiling off, gold.keen opts in
    write(
        shop / "models" / "gold" / "lean.sql",
        "/* {materialized: table, profile: false} */\nSELECT order_id FROM bronze.orders\n",
    )
    write(
        shop / "models" / "gold" / "keen.sql",
        "/* {materialized: table, profile: true} */\nSELECT order_id FROM bronze.orders\n",
    )
    select = ["orders", "gold.lean", "gold.keen", "silver.orders", "gold.revenue"]

    default = run(shop, registry, select)
    pipeline = (shop / "sluiceway.yaml").read_text(encoding="utf-8")
    (shop / "sluiceway.yaml").write_text(pipeline + "quality: {profile: false}\n", "utf-8")
    off = run(shop, registry, select)

    def profiled(result: RunResult) -> dict[str, bool]:
        return {s.name: bool(s.quality and s.quality["profiled"]) for s in result.steps}

    assert profiled(default) == {
        "orders": True,
        "silver.orders": True,
        "gold.revenue": True,
        "gold.lean": False,
        "gold.keen": True,
    }
    assert profiled(off) == {
        "orders": False,
        "silver.orders": False,
        "gold.revenue": False,
        "gold.lean": False,
        "gold.keen": True,
    }
