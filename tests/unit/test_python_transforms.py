"""The ``@sluiceway.model`` decorator: inputs bound to arguments, declared lineage checked."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from sluiceway import model
from sluiceway.transform.lineage_types import ColumnLineage, ColumnRef
from sluiceway.transform.python import PythonTransform, collect, declared_lineage


def registered(**options: Any) -> PythonTransform:
    def define() -> None:
        @model("gold.t", **options)
        def t(orders: pa.Table, customers: pa.Table) -> pa.Table:
            return orders

    [found] = collect(define)
    return found


def test_inputs_in_order_bind_to_the_positional_parameters() -> None:
    found = registered(inputs=["silver.orders", "silver.customers"], format="arrow")

    assert dict(found.inputs) == {"orders": "silver.orders", "customers": "silver.customers"}
    assert found.reads == ("silver.orders", "silver.customers")
    assert found.config == {"materialized": "table"}
    assert found.format == "arrow"


def test_the_decorated_function_is_returned_unchanged_and_callable() -> None:
    @model("gold.same", inputs=["a"], format="arrow")
    def same(table: pa.Table) -> pa.Table:
        return table

    data = pa.table({"x": [1]})
    assert same(data) is data


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            ["a", "b", "c"],
            "model 'gold.t': 3 inputs, but t() takes 2 argument(s)",
        ),
        (
            {"orders": "a"},
            "model 'gold.t': inputs must name t()'s arguments; no input for 'customers'",
        ),
        (
            {"orders": "a", "customers": "b", "extra": "c"},
            "model 'gold.t': inputs must name t()'s arguments; no argument 'extra'",
        ),
    ],
)
def test_inputs_must_match_the_parameters(inputs: Any, message: str) -> None:
    with pytest.raises(ValueError, match=r"^model 'gold\.t': ") as caught:
        registered(inputs=inputs)

    assert str(caught.value) == message


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="format must be one of duckdb, arrow, polars"):
        registered(inputs=["a", "b"], format="pandas")


def test_declared_lineage_takes_lists_and_mappings_and_infers_the_kind() -> None:
    found = registered(
        inputs=["silver.orders", "silver.customers"],
        lineage={
            "order_id": ["silver.orders.order_id"],
            "Total": {"sources": ["silver.orders.amount", "silver.orders.tax"]},
            "big": {"sources": ["silver.orders.amount"], "expression": "amount > 100"},
            "source": {"expression": "'shop'"},
            "rank": {"sources": ["silver.orders.amount"], "kind": "window"},
        },
    )

    amount = ColumnRef("silver.orders", "amount")
    assert found.lineage == (
        ColumnLineage(
            "order_id",
            (ColumnRef("silver.orders", "order_id"),),
            "silver.orders.order_id",
            "identity",
        ),
        ColumnLineage(
            "total",
            (amount, ColumnRef("silver.orders", "tax")),
            "silver.orders.amount, silver.orders.tax",
            "derived",
        ),
        ColumnLineage("big", (amount,), "amount > 100", "derived"),
        ColumnLineage("source", (), "'shop'", "constant"),
        ColumnLineage("rank", (amount,), "silver.orders.amount", "window"),
    )
    assert declared_lineage(found)[2] == {
        "column": "big",
        "sources": ["silver.orders.amount"],
        "expression": "amount > 100",
        "kind": "derived",
    }


@pytest.mark.parametrize(
    ("lineage", "message"),
    [
        ({"x": ["amount"]}, "lineage of 'x': expected table.column, got 'amount'"),
        ({"x": {"sources": [], "how": "?"}}, "lineage of 'x' is a list of source columns"),
        ({"x": "silver.orders.amount"}, "lineage of 'x' is a list of source columns"),
        ({"x": {"sources": ["a.b"], "kind": "magic"}}, "kind 'magic' is not one of identity"),
    ],
)
def test_malformed_lineage_is_refused_when_the_module_is_imported(
    lineage: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=r"^model 'gold\.t': ") as caught:
        registered(inputs=["a", "b"], lineage=lineage)

    assert message in str(caught.value)


def test_a_function_decorated_outside_discovery_is_not_collected_by_a_later_one() -> None:
    @model("gold.stray", inputs=["a"], format="arrow")
    def stray(table: pa.Table) -> pa.Table:
        return table

    assert collect(lambda: None) == []
    assert stray.__sluiceway_model__.name == "gold.stray"  # type: ignore[attr-defined]
