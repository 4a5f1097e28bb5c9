"""Models as chains of operations (``.yaml``) and as Python transforms (``.py``), on DuckDB and
PostgreSQL: the same rows on both, their place in the DAG, lineage, and user errors."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from sluiceway.core.errors import ConfigError, SluicewayError, UserCodeError
from sluiceway.core.events import EventBus
from sluiceway.core.status import RunStatus, StepStatus
from sluiceway.engine.registry import Registry
from sluiceway.engine.runner import PipelineRunner, RunResult
from sluiceway.meta import lineage_store
from sluiceway.meta.store import MetaStore
from sluiceway.meta.tables import model_versions
from sluiceway.observe.lineage_recorder import LineageRecorder
from sluiceway.transform.lineage_types import ColumnRef
from sluiceway.transform.models import discover_models
from tests.conftest import WritePipeline, write
from tests.integration.warehouse_targets import Target

pytestmark = pytest.mark.integration


ORDERS = """\
order_id,customer_id,amount,status
1,10,5.50,paid
2,10,3.00,paid
3,11,7.25,refunded
4,12,20.00,paid
"""

PAID_OPS = """
materialized: table
checks:
  - {rule: not_null, column: amount_usd}
source: bronze.orders
ops:
  - {op: filter, where: {column: status, op: eq, value: paid}}
  - {op: rename, columns: {amount: amount_usd}}
"""

TRANSFORMS = """
import pyarrow as pa
import pyarrow.compute as pc

from sluiceway import model


@model("gold.by_customer", inputs={"paid": "silver.paid"}, unique_key="customer_id")
def by_customer(paid):
    return paid.aggregate("customer_id, sum(amount_usd) AS total", "customer_id")


@model(
    "gold.flags",
    inputs=["silver.paid"],
    format="arrow",
    lineage={
        "order_id": ["silver.paid.order_id"],
        "big": {"sources": ["silver.paid.amount_usd"], "expression": "amount_usd > 4"},
    },
)
def flags(paid):
    return pa.table({"order_id": paid["order_id"], "big": pc.greater(paid["amount_usd"], 4)})


@model("gold.doubled", inputs=["gold.by_customer"], format="polars")
def doubled(totals):
    import polars as pl

    return totals.with_columns((pl.col("total") * 2).alias("twice"))
"""


@pytest.fixture
def shop(project: Path, target: Target, write_pipeline: WritePipeline) -> Path:
    write(project / "orders.csv", ORDERS)
    write(project / "models" / "silver" / "paid.yaml", PAID_OPS)
    write(project / "models" / "gold" / "transforms.py", TRANSFORMS)
    write_pipeline(
        f"""
        pipeline: shop
        sources:
          orders:
            type: csv
            path: orders.csv
            table: bronze.orders
            write: replace
            columns: {{amount: "DECIMAL(10,2)"}}
        {target.yaml(8).strip()}
        """
    )
    return project


def run(project: Path, registry: Registry, select: list[str] | None = None) -> RunResult:
    pipeline = registry.load(project / "sluiceway.yaml")
    bus = EventBus()
    with MetaStore.for_state_dir(pipeline.state_dir) as store:
        bus.subscribe(LineageRecorder(store))
        return PipelineRunner(pipeline, registry=registry, bus=bus).run(select)


def succeeded(result: RunResult) -> None:
    assert result.status is RunStatus.SUCCEEDED, [str(s.error) for s in result.steps]


def test_ops_and_python_models_run_in_dependency_order_with_the_same_rows_on_each_engine(
    shop: Path, target: Target, registry: Registry
) -> None:
    result = run(shop, registry)

    succeeded(result)
    names = [s.name for s in result.steps]
    assert names.index("orders") < names.index("silver.paid") < names.index("gold.by_customer")
    assert names.index("gold.by_customer") < names.index("gold.doubled")
    assert names.index("silver.paid") < names.index("gold.flags")
    paid = target.rows("SELECT order_id, customer_id, amount_usd FROM silver.paid ORDER BY 1")
    assert [(int(o), int(c), Decimal(str(a))) for o, c, a in paid] == [
        (1, 10, Decimal("5.50")),
        (2, 10, Decimal("3.00")),
        (4, 12, Decimal("20.00")),
    ]
    totals = target.rows("SELECT customer_id, total, twice FROM gold.doubled ORDER BY 1")
    assert [(int(c), Decimal(str(t)), Decimal(str(w))) for c, t, w in totals] == [
        (10, Decimal("8.50"), Decimal("17.00")),
        (12, Decimal("20.00"), Decimal("40.00")),
    ]
    flags = target.rows("SELECT order_id, big FROM gold.flags ORDER BY 1")
    assert [(int(o), bool(b)) for o, b in flags] == [(1, True), (2, False), (4, True)]


def test_lineage_of_ops_models_traced_relations_and_declared_transforms(
    shop: Path, registry: Registry
) -> None:
    succeeded(run(shop, registry))

    with MetaStore.for_state_dir(shop / ".sluiceway") as store:
        graph = lineage_store.load_graph(store)

    def sources(ref: str) -> list[str]:
        return sorted(str(e.source) for e in graph.column_edges() if str(e.target) == ref)

    # the ops chain is compiled and traced: a rename keeps its source
    assert sources("silver.paid.amount_usd") == ["bronze.orders.amount"]
    # a relation built from its inputs is traced like SQL
    assert sources("gold.by_customer.total") == ["silver.paid.amount_usd"]
    # an Arrow transform's declared lineage
    big = [e for e in graph.column_edges() if e.target == ColumnRef("gold.flags", "big")]
    assert [(str(e.source), e.expression, e.kind) for e in big] == [
        ("silver.paid.amount_usd", "amount_usd > 4", "derived")
    ]
    # a Polars transform declared nothing: table-level edges from its input only
    assert ("gold.by_customer", "gold.doubled", "transform") in {
        (e.source, e.target, e.kind) for e in graph.table_edges()
    }
    assert not [e for e in graph.column_edges() if e.target.table == "gold.doubled"]
    impact = [str(r) for r in graph.impact("bronze.orders.amount")]
    assert "gold.by_customer.total" in impact
    assert "gold.flags.big" in impact


def test_select_a_transform_and_what_is_downstream(shop: Path, registry: Registry) -> None:
    succeeded(run(shop, registry))

    result = run(shop, registry, ["gold.by_customer+"])

    succeeded(result)
    assert [s.name for s in result.steps] == ["gold.by_customer", "gold.doubled"]


def test_a_transform_that_raises_fails_its_step_naming_the_model_and_line_and_keeps_the_table(
    shop: Path, target: Target, registry: Registry
) -> None:
    succeeded(run(shop, registry))
    before = target.rows("SELECT customer_id, total FROM gold.by_customer ORDER BY 1")
    write(
        shop / "models" / "gold" / "transforms.py",
        TRANSFORMS.replace(
            '    return paid.aggregate("customer_id, sum(amount_usd) AS total", "customer_id")',
            "    rows = paid.aggregate('customer_id, sum(amount_usd) AS total', 'customer_id')\n"
            "    raise RuntimeError('the rates service is down')",
        ),
    )

    result = run(shop, registry)

    step = next(s for s in result.steps if s.name == "gold.by_customer")
    assert step.status is StepStatus.FAILED
    assert isinstance(step.error, UserCodeError)
    assert step.error.message == (
        "model 'gold.by_customer': by_customer() raised RuntimeError: the rates service is down"
    )
    assert step.error.location is not None
    assert step.error.location.file == str(shop / "models" / "gold" / "transforms.py")
    assert step.error.location.line == 10  # the raise, not the decorator
    kept = step.error.__sluiceway_traceback__  # type: ignore[attr-defined]
    assert "RuntimeError: the rates service is down" in kept
    assert 'transforms.py", line 10, in by_customer' in kept
    assert isinstance(step.error.__cause__, RuntimeError)
    skipped = next(s for s in result.steps if s.name == "gold.doubled")
    assert skipped.status is StepStatus.SKIPPED
    assert target.rows("SELECT customer_id, total FROM gold.by_customer ORDER BY 1") == before


def test_a_relation_failing_while_computed_and_a_wrong_return_type_are_the_models_errors(
    shop: Path, registry: Registry
) -> None:
    write(
        shop / "models" / "gold" / "broken.py",
        """
        from sluiceway import model


        @model("gold.unbound", inputs=["silver.paid"])
        def unbound(paid):
            return paid.filter("no_such_column > 1")


        @model("gold.wrong", inputs=["silver.paid"], format="arrow")
        def wrong(paid):
            return {"a": [1]}
        """,
    )

    result = run(shop, registry)

    errors = {s.name: s.error for s in result.steps if s.error is not None}
    assert sorted(errors) == ["gold.unbound", "gold.wrong"]
    unbound = errors["gold.unbound"]
    assert isinstance(unbound, UserCodeError)
    assert "model 'gold.unbound': unbound() raised BinderException" in unbound.message
    assert "no_such_column" in unbound.message
    wrong = errors["gold.wrong"]
    assert isinstance(wrong, UserCodeError)
    assert wrong.message == (
        "model 'gold.wrong': wrong() returned dict; a transform returns a DuckDB relation, an "
        "Arrow table or record batch reader, or a Polars DataFrame"
    )
    assert result.status is RunStatus.FAILED


def test_an_ops_model_naming_a_missing_column_fails_its_step_with_a_suggestion(
    shop: Path, registry: Registry
) -> None:
    write(shop / "models" / "silver" / "paid.yaml", PAID_OPS.replace("{amount:", "{amout:"))

    result = run(shop, registry, ["orders", "silver.paid"])

    step = next(s for s in result.steps if s.name == "silver.paid")
    assert step.status is StepStatus.FAILED
    assert isinstance(step.error, ConfigError)
    assert "ops[1] (rename): no column 'amout' in the input" in step.error.message


def test_models_modules_registers_transforms_from_an_importable_module(
    shop: Path, target: Target, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = shop / "pylib"
    write(
        package / "shop_transforms.py",
        """
        from sluiceway import model


        @model("gold.order_count", inputs=["silver.paid"], format="arrow")
        def order_count(paid):
            import pyarrow as pa

            return pa.table({"orders": [paid.num_rows]})
        """,
    )
    monkeypatch.syspath_prepend(str(package))
    monkeypatch.delitem(sys.modules, "shop_transforms", raising=False)
    pipeline = (shop / "sluiceway.yaml").read_text(encoding="utf-8")
    (shop / "sluiceway.yaml").write_text(
        pipeline + "models:\n  modules: [shop_transforms]\n", encoding="utf-8"
    )

    succeeded(run(shop, registry))

    assert [int(n) for (n,) in target.rows("SELECT orders FROM gold.order_count")] == [3]


def discovered(project: Path, registry: Registry) -> list[Any]:
    pipeline = registry.load(project / "sluiceway.yaml")
    return discover_models(project, pipeline.spec.models)


def test_a_models_file_that_fails_to_import_names_its_line(shop: Path, registry: Registry) -> None:
    write(shop / "models" / "gold" / "oops.py", "import pyarrow\n\nx = 1 / 0\n")

    with pytest.raises(UserCodeError) as caught:
        discovered(shop, registry)

    assert caught.value.location is not None
    assert caught.value.location.render() == f"{shop / 'models' / 'gold' / 'oops.py'}:3"
    assert "ZeroDivisionError: division by zero" in caught.value.message


def test_two_models_of_one_name_are_refused(shop: Path, registry: Registry) -> None:
    write(
        shop / "models" / "more.py",
        """
        from sluiceway import model


        @model("silver.paid", inputs=["bronze.orders"], format="arrow")
        def paid(orders):
            return orders
        """,
    )

    with pytest.raises(ConfigError, match=r"two models are named 'silver\.paid'"):
        discovered(shop, registry)


def test_a_python_transform_cannot_be_a_view(shop: Path, registry: Registry) -> None:
    write(
        shop / "models" / "view.py",
        """
        from sluiceway import model


        @model("gold.v", inputs=["silver.paid"], materialized="view")
        def v(paid):
            return paid
        """,
    )

    with pytest.raises(ConfigError, match="cannot be a `view`"):
        discovered(shop, registry)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ops: [{op: filter, where: {sql: 'true'}}]\n", "needs `source: TABLE`"),
        ("source: bronze.orders\n", "needs `ops:`, a list of operations"),
        ("source: bronze.orders\nops: [{op: explode}]\n", "ops[0]"),
        (
            "source: bronze.orders\nops: [{op: select, columns: [a]}]\nmaterialized: cube\n",
            "materialized: Input should be",
        ),
    ],
)
def test_a_malformed_operations_model_is_refused_naming_its_file(
    shop: Path, registry: Registry, text: str, message: str
) -> None:
    bad = shop / "models" / "silver" / "bad.yaml"
    write(bad, text)

    with pytest.raises(ConfigError) as caught:
        discovered(shop, registry)

    assert caught.value.message.startswith("model 'silver.bad': ")
    assert message in caught.value.message
    assert caught.value.location is not None
    assert caught.value.location.file == str(bad)


def test_a_transform_whose_input_is_missing_fails_with_the_table_named(
    shop: Path, registry: Registry
) -> None:
    write(
        shop / "models" / "gold" / "orphan.py",
        """
        from sluiceway import model


        @model("gold.orphan", inputs=["silver.nowhere"])
        def orphan(rows):
            return rows
        """,
    )

    result = run(shop, registry, ["gold.orphan"])

    [step] = result.steps
    assert step.status is StepStatus.FAILED
    assert isinstance(step.error, SluicewayError)
    assert step.error.message.startswith(
        "model 'gold.orphan': cannot read its input silver.nowhere: "
    )


def test_a_polars_transform_without_polars_installed_says_what_to_install(
    shop: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "polars", None)  # `import polars` raises ImportError

    result = run(shop, registry)

    step = next(s for s in result.steps if s.name == "gold.doubled")
    assert step.status is StepStatus.FAILED
    assert isinstance(step.error, ConfigError)
    assert step.error.message == (
        "model 'gold.doubled' takes Polars frames (format='polars'), but polars is not installed"
    )
    assert step.error.hint == "pip install 'sluiceway[polars]' (or polars)."


def test_a_changed_chain_or_function_is_a_new_model_version(shop: Path, registry: Registry) -> None:
    succeeded(run(shop, registry))
    write(shop / "models" / "silver" / "paid.yaml", PAID_OPS.replace("value: paid", "value: due"))
    write(
        shop / "models" / "gold" / "transforms.py",
        TRANSFORMS.replace("AS total", "AS total_amount").replace('"total"', '"total_amount"'),
    )
    succeeded(run(shop, registry))
    succeeded(run(shop, registry))  # unchanged: no new version

    latest = select(model_versions.c.model, func.max(model_versions.c.version))
    with MetaStore.for_state_dir(shop / ".sluiceway") as store, store.reading("read") as db:
        versions = {m: v for m, v in db.execute(latest.group_by(model_versions.c.model))}

    assert versions == {
        "gold.by_customer": 2,
        "gold.doubled": 2,
        "gold.flags": 1,
        "silver.paid": 2,
    }
