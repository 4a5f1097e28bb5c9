"""The DAG of a pipeline: edges and their reasons, levels, cycles, SQL references, endpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sluiceway.core.endpoints import endpoint_of, normalize_endpoint
from sluiceway.core.errors import ConfigError
from sluiceway.engine.dag import Dag, Edge, Step, build_dag
from sluiceway.engine.registry import Registry
from sluiceway.transform.models import tables_read
from tests.conftest import WritePipeline


def spec_of(registry: Registry, write_pipeline: WritePipeline, text: str) -> Any:
    path: Path = write_pipeline(text)
    return registry.load(path).spec


def reasons(dag: Dag) -> set[tuple[str, str, str]]:
    return {(e.parent, e.child, e.reason) for e in dag.edges}


def test_edges_come_from_depends_on_references_and_rules(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    spec = spec_of(
        registry,
        write_pipeline,
        """
        pipeline: shop
        sources:
          items:
            type: csv
            path: items.csv
            table: bronze.items
            checks:
              - {rule: foreign_key, column: order_id, references: bronze.orders.id}
          orders:
            type: csv
            path: orders.csv
            table: bronze.orders
            references: [bronze.customers]
          customers: {type: csv, path: customers.csv, table: bronze.customers}
          report: {type: csv, path: r.csv, depends_on: [items]}
          external: {type: csv, path: e.csv, references: [{table: crm.accounts}]}
        """,
    )
    dag = build_dag(spec)
    assert reasons(dag) == {
        ("customers", "orders", "references bronze.customers"),
        ("orders", "items", "a rule reads bronze.orders"),
        ("items", "report", "depends_on"),
    }
    assert dag.levels() == [["customers", "external"], ["orders"], ["items"], ["report"]]
    assert dag.order() == ["customers", "external", "orders", "items", "report"]
    assert dag.downstream("customers") == ["orders", "items", "report"]
    assert dag.parents("report") == ["items"]


def test_a_cycle_is_an_error_that_names_it_and_why(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    spec = spec_of(
        registry,
        write_pipeline,
        """
        pipeline: loop
        sources:
          a: {type: csv, path: a.csv, depends_on: [c]}
          b: {type: csv, path: b.csv, references: [a]}
          c: {type: csv, path: c.csv, depends_on: [b]}
          d: {type: csv, path: d.csv}
        """,
    )
    with pytest.raises(ConfigError) as raised:
        build_dag(spec)
    assert raised.value.message == "the steps depend on each other in a cycle: a -> b -> c -> a"
    assert raised.value.hint is not None
    assert "b after a (references a); c after b (depends_on); a after c (depends_on)" in (
        raised.value.hint
    )


def test_depends_on_an_unknown_step_is_an_error(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    spec = spec_of(
        registry,
        write_pipeline,
        """
        pipeline: typo
        sources:
          a: {type: csv, path: a.csv, depends_on: [bb]}
          b: {type: csv, path: b.csv}
        """,
    )
    with pytest.raises(ConfigError, match="`depends_on` names 'bb'"):
        build_dag(spec)


def test_foreign_keys_from_a_catalog_become_edges(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    spec = spec_of(
        registry,
        write_pipeline,
        """
        pipeline: pg
        warehouse: {type: postgres, connection: "postgresql://loader@wh.internal/dw"}
        sources:
          orders:
            type: postgres
            connection: postgresql://loader@db.internal/shop
            source_table: sales.orders
          customers:
            type: postgres
            connection: postgresql://loader@db.internal:5432/shop
            source_table: Customers
          other_db:
            type: postgres
            connection: postgresql://loader@db.internal/other
            source_table: public.customers
        """,
    )
    dag = build_dag(spec, foreign_keys={"orders": ["public.customers"], "other_db": []})
    assert reasons(dag) == {("customers", "orders", "FK public.customers")}
    assert dag.steps["orders"].endpoint == "postgres://db.internal:5432/shop"
    assert dag.steps["orders"].resources == (
        "postgres://db.internal:5432/shop",
        "warehouse",
        "postgres://wh.internal:5432/dw",  # a limit on the warehouse's server covers its loads
    )


def test_subset_keeps_only_the_edges_between_kept_steps() -> None:
    dag = Dag(
        {n: Step(n, "extract") for n in "abc"},
        [Edge("a", "b", "depends_on"), Edge("b", "c", "depends_on")],
    )
    part = dag.subset(["b", "c"])
    assert part.order() == ["b", "c"]
    assert part.edges == [Edge("b", "c", "depends_on")]
    assert part.levels() == [["b"], ["c"]]


def test_tables_read_by_sql_skip_cte_names() -> None:
    sql = """
        WITH recent AS (SELECT * FROM bronze.orders WHERE ts > now() - INTERVAL 1 DAY)
        SELECT c.id, count(*) FROM recent r
        JOIN bronze.customers c ON c.id = r.customer_id
        WHERE c.id IN (SELECT customer_id FROM silver.vip)
        GROUP BY ALL
    """
    assert sorted(tables_read(sql)) == ["bronze.customers", "bronze.orders", "silver.vip"]
    assert tables_read("SELECT 1") == []
    with pytest.raises(ConfigError, match="cannot parse SQL"):
        tables_read("SELEC FROM")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "postgresql://u:secret@DB.example.com/shop?sslmode=require",
            "postgres://db.example.com:5432/shop",
        ),
        ("postgresql+psycopg://u@db.example.com:6432/shop", "postgres://db.example.com:6432/shop"),
        ("mysql://root:@127.0.0.1/app", "mysql://127.0.0.1:3306/app"),
        ("https://api.example.com/v1/orders?page=2", "https://api.example.com"),
        ("shop_db", "shop_db"),
        ("postgresql://u:secret@/shop?host=/run/pg&port=6543", "postgres://[/run/pg]:6543/shop"),
        (
            "host=db.example port=6543 user=u password=secret dbname=shop",
            "postgres://db.example:6543/shop",
        ),
        ("host='db' password='se cret' dbname=x", "postgres://db:5432/x"),
    ],
)
def test_endpoints_name_a_service_without_credentials(given: str, expected: str) -> None:
    assert normalize_endpoint(given) == expected
    assert "secret" not in normalize_endpoint(given)


def test_an_explicit_endpoint_wins_and_files_have_none() -> None:
    class Config:
        endpoint = "api.example.com"
        url = "https://other.example.com"

    class Files:
        path = "data/*.csv"

    assert endpoint_of(Config()) == "api.example.com"
    assert endpoint_of(Files()) is None


def test_execution_limits_take_connection_strings(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    spec = spec_of(
        registry,
        write_pipeline,
        """
        pipeline: lim
        execution:
          limits: {"postgresql://u:pw@db/shop": 2, warehouse: 1}
          step_timeout: 90s
        sources:
          a: {type: csv, path: a.csv}
        """,
    )
    assert spec.execution.limits == {"postgres://db:5432/shop": 2, "warehouse": 1}
    assert spec.execution.step_timeout.total_seconds() == 90


def test_a_zero_limit_is_refused(registry: Registry, write_pipeline: WritePipeline) -> None:
    path = write_pipeline(
        """
        pipeline: lim
        execution: {limits: {warehouse: 0}}
        sources:
          a: {type: csv, path: a.csv}
        """
    )
    with pytest.raises(ConfigError, match="limits must be at least 1: warehouse"):
        registry.load(path)
