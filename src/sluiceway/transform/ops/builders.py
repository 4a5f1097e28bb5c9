"""Operations built from Python: one function per operation, returning the validated model.

>>> from sluiceway.transform.ops import compile_ops, ops, to_sql
>>> chain = [
...     ops.filter(ops.all_of(ops.where("status", "eq", "paid"), ops.sql("amount > 0"))),
...     ops.aggregate({"revenue": ops.measure("sum", "amount")}, group_by=["region"]),
... ]
>>> print(to_sql(compile_ops("orders", chain), "postgres"))  # doctest: +NORMALIZE_WHITESPACE
WITH "_op0_filter" AS (SELECT * FROM "orders" WHERE "status" = 'paid' AND (amount > 0))
SELECT "region", SUM("amount") AS "revenue" FROM "_op0_filter" GROUP BY "region"

Mappings are accepted wherever a model is (``{"fn": "sum", "column": "amount"}`` for
``ops.measure("sum", "amount")``), exactly as YAML writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal

from sluiceway.transform.ops.spec import (
    AgeOp,
    AggregateOp,
    AllOf,
    AnyOf,
    BinOp,
    CastOp,
    Compare,
    CompareOp,
    Condition,
    DaysSinceOp,
    DedupeOp,
    DeriveOp,
    FilterOp,
    FlattenOp,
    JoinOp,
    JsonField,
    Measure,
    Not,
    OrderBy,
    PivotOp,
    RenameOp,
    ResampleOp,
    RfmOp,
    ScalarValue,
    SelectOp,
    SqlCondition,
    UnpivotOp,
    WindowColumn,
    WindowOp,
)

Order = str | OrderBy | Mapping[str, Any]
"""An ordering term: ``"ts"``, ``"ts desc"``, an :class:`OrderBy` or its mapping."""


def _given(**options: Any) -> dict[str, Any]:
    """The options that were given (``None`` means "the default")."""
    return {key: value for key, value in options.items() if value is not None}


# -- columns --------------------------------------------------------------------------------


def select(*columns: str, except_: Sequence[str] | None = None) -> SelectOp:
    """Keep ``columns`` (in order), or every column but ``except_``."""
    data = _given(columns=list(columns) or None, **{"except": except_})
    return SelectOp.model_validate({"op": "select", **data})


def rename(columns: Mapping[str, str]) -> RenameOp:
    """Rename ``{old: new}``."""
    return RenameOp.model_validate({"op": "rename", "columns": columns})


def cast(columns: Mapping[str, str], *, safe: bool = False) -> CastOp:
    """Cast ``{column: DuckDB type}``; ``safe``: NULL where a value cannot be cast."""
    return CastOp.model_validate({"op": "cast", "columns": columns, "safe": safe})


def derive(columns: Mapping[str, str] | None = None, **named: str) -> DeriveOp:
    """Add ``{name: DuckDB SQL expression}`` columns (also as keywords: ``derive(x="a + 1")``)."""
    return DeriveOp.model_validate({"op": "derive", "columns": {**(columns or {}), **named}})


def flatten(
    column: str,
    *,
    paths: Mapping[str, str | JsonField | Mapping[str, str]] | None = None,
    separator: str = "_",
    prefix: str | None = None,
    recursive: bool = True,
    keep: bool = False,
) -> FlattenOp:
    """Spread a STRUCT column into columns, or pull ``paths`` out of a JSON column."""
    data = _given(paths=paths, prefix=prefix)
    options = {"separator": separator, "recursive": recursive, "keep": keep}
    return FlattenOp.model_validate({"op": "flatten", "column": column, **data, **options})


# -- filter ---------------------------------------------------------------------------------


def where(
    column: str, op: CompareOp, value: ScalarValue | list[ScalarValue] | None = None
) -> Compare:
    """A leaf condition: ``where("amount", "gt", 10)``, ``where("email", "is_null")``."""
    return Compare.model_validate({"column": column, "op": op, "value": value})


def sql(text: str) -> SqlCondition:
    """A leaf condition in DuckDB SQL: ``sql("amount > 2 * discount")``."""
    return SqlCondition.model_validate({"sql": text})


def all_of(*conditions: Condition | Mapping[str, Any]) -> AllOf:
    """Every condition holds."""
    return AllOf.model_validate({"and": list(conditions)})


def any_of(*conditions: Condition | Mapping[str, Any]) -> AnyOf:
    """At least one condition holds."""
    return AnyOf.model_validate({"or": list(conditions)})


def not_(condition: Condition | Mapping[str, Any]) -> Not:
    """The condition does not hold."""
    return Not.model_validate({"not": condition})


def filter(where: Condition | Mapping[str, Any]) -> FilterOp:
    """Keep the rows where ``where`` holds."""
    return FilterOp.model_validate({"op": "filter", "where": where})


# -- join, aggregate, windows ----------------------------------------------------------------


def join(
    table: str,
    *,
    on: Mapping[str, str] | None = None,
    using: Sequence[str] | None = None,
    how: Literal["inner", "left", "right", "full"] = "inner",
    select: Sequence[str] | Mapping[str, str] = (),
    prefix: str | None = None,
) -> JoinOp:
    """Join ``table`` on ``{input column: table column}`` (or ``using`` shared names)."""
    chosen = dict(select) if isinstance(select, Mapping) else list(select)
    data = _given(on=on, using=using, prefix=prefix)
    return JoinOp.model_validate(
        {"op": "join", "table": table, "how": how, "select": chosen, **data}
    )


def measure(fn: str, column: str | None = None, *, q: float | None = None) -> Measure:
    """An aggregate: ``measure("sum", "amount")``, ``measure("count")``,
    ``measure("percentile", "x", q=0.9)``."""
    return Measure.model_validate(_given(fn=fn, column=column, q=q))


def aggregate(
    measures: Mapping[str, Measure | Mapping[str, Any]], *, group_by: Sequence[str] = ()
) -> AggregateOp:
    """One row per ``group_by`` key with the ``{name: measure}`` aggregates."""
    return AggregateOp.model_validate(
        {"op": "aggregate", "measures": measures, "group_by": list(group_by)}
    )


def window_column(
    fn: str,
    column: str | None = None,
    *,
    offset: int | None = None,
    default: ScalarValue | None = None,
    rows: int | None = None,
    buckets: int | None = None,
) -> WindowColumn:
    """A window function: ``window_column("lag", "amount", offset=1)``,
    ``window_column("moving_avg", "amount", rows=7)``."""
    data = _given(column=column, offset=offset, default=default, rows=rows, buckets=buckets)
    return WindowColumn.model_validate({"fn": fn, **data})


def window(
    columns: Mapping[str, WindowColumn | Mapping[str, Any]],
    *,
    partition_by: Sequence[str] = (),
    order_by: Sequence[Order] = (),
) -> WindowOp:
    """Add ``{name: window column}`` columns over ``partition_by`` ordered by ``order_by``."""
    return WindowOp.model_validate(
        {
            "op": "window",
            "columns": columns,
            "partition_by": list(partition_by),
            "order_by": list(order_by),
        }
    )


def dedupe(
    key: Sequence[str], *, order_by: Sequence[Order] = (), keep: Literal["first", "last"] = "first"
) -> DedupeOp:
    """One row per ``key``: the first or last by ``order_by``."""
    return DedupeOp.model_validate(
        {"op": "dedupe", "key": list(key), "order_by": list(order_by), "keep": keep}
    )


# -- reshape, time series, features ----------------------------------------------------------


def pivot(
    column: str,
    categories: Sequence[bool | int | float | date | str],
    *,
    index: Sequence[str] = (),
    values: str | None = None,
    agg: str = "sum",
    q: float | None = None,
    prefix: str = "",
) -> PivotOp:
    """One column per category of ``column``, aggregating ``values`` with ``agg``."""
    data = _given(values=values, q=q)
    return PivotOp.model_validate(
        {
            "op": "pivot",
            "column": column,
            "categories": list(categories),
            "index": list(index),
            "agg": agg,
            "prefix": prefix,
            **data,
        }
    )


def unpivot(
    columns: Sequence[str] | None = None,
    *,
    index: Sequence[str] | None = None,
    name: str = "name",
    value: str = "value",
    value_type: str | None = None,
    include_nulls: bool = False,
) -> UnpivotOp:
    """Turn ``columns`` (default: all but ``index``) into (name, value) rows."""
    data = _given(
        columns=list(columns) if columns is not None else None,
        index=list(index) if index is not None else None,
        value_type=value_type,
    )
    options = {"name": name, "value": value, "include_nulls": include_nulls}
    return UnpivotOp.model_validate({"op": "unpivot", **data, **options})


def resample(
    time: str,
    every: str,
    measures: Mapping[str, Measure | Mapping[str, Any]],
    *,
    group_by: Sequence[str] = (),
    fill: Literal["none", "zero", "forward"] = "none",
    start: datetime | date | None = None,
    end: datetime | date | None = None,
) -> ResampleOp:
    """Aggregate into ``every``-wide buckets of ``time`` with gaps filled per ``fill``."""
    data = _given(start=start, end=end)
    return ResampleOp.model_validate(
        {
            "op": "resample",
            "time": time,
            "every": every,
            "measures": measures,
            "group_by": list(group_by),
            "fill": fill,
            **data,
        }
    )


def age(column: str, *, as_of: date | None = None, name: str = "age") -> AgeOp:
    """Whole years from ``column`` to ``as_of`` (default today)."""
    return AgeOp.model_validate(
        {"op": "age", "column": column, "name": name, **_given(as_of=as_of)}
    )


def days_since(column: str, *, as_of: date | None = None, name: str | None = None) -> DaysSinceOp:
    """Days from ``column`` to ``as_of`` (default today)."""
    data = _given(as_of=as_of, name=name)
    return DaysSinceOp.model_validate({"op": "days_since", "column": column, **data})


def rfm(
    customer: str, date: str, amount: str, *, as_of: datetime | date | None = None, bins: int = 5
) -> RfmOp:
    """Recency, frequency, monetary value and their scores per ``customer``."""
    data = {"customer": customer, "date": date, "amount": amount, "bins": bins}
    return RfmOp.model_validate({"op": "rfm", **data, **_given(as_of=as_of)})


def bin(
    column: str,
    *,
    edges: Sequence[float] | None = None,
    count: int | None = None,
    labels: Sequence[str] | None = None,
    closed: Literal["left", "right"] = "left",
    name: str | None = None,
) -> BinOp:
    """Bin ``column`` by ``edges`` or into ``count`` equal-width bins."""
    data = _given(
        edges=list(edges) if edges is not None else None,
        count=count,
        labels=list(labels) if labels is not None else None,
        name=name,
    )
    return BinOp.model_validate({"op": "bin", "column": column, "closed": closed, **data})
