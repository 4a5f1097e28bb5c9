"""The filter operation: a condition tree compiled to one WHERE predicate."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from sluiceway.transform.ops.expressions import col, literal, parse_expression
from sluiceway.transform.ops.spec import (
    AllOf,
    AnyOf,
    Compare,
    Condition,
    FilterOp,
    Not,
    ScalarValue,
    SqlCondition,
)
from sluiceway.transform.ops.steps import Context, Relation, Step, select_from

_BINARY: dict[str, Callable[[exp.Expr, exp.Expr], exp.Expr]] = {
    "eq": lambda a, b: exp.EQ(this=a, expression=b),
    "ne": lambda a, b: exp.NEQ(this=a, expression=b),
    "lt": lambda a, b: exp.LT(this=a, expression=b),
    "le": lambda a, b: exp.LTE(this=a, expression=b),
    "gt": lambda a, b: exp.GT(this=a, expression=b),
    "ge": lambda a, b: exp.GTE(this=a, expression=b),
    "like": lambda a, b: exp.Like(this=a, expression=b),
    "ilike": lambda a, b: exp.ILike(this=a, expression=b),
}


def _values(value: ScalarValue | list[ScalarValue] | None) -> list[exp.Expr]:
    items = value if isinstance(value, list) else [value]
    return [literal(item) for item in items]


def _compare(leaf: Compare) -> exp.Expr:
    column = col(leaf.column)
    if leaf.op in _BINARY:
        (value,) = _values(leaf.value)
        return _BINARY[leaf.op](column, value)
    if leaf.op in {"is_null", "not_null"}:
        test: exp.Expr = exp.Is(this=column, expression=exp.null())
        return test if leaf.op == "is_null" else exp.Not(this=test)
    if leaf.op == "between":
        low, high = _values(leaf.value)
        return exp.Between(this=column, low=low, high=high)
    found = exp.In(this=column, expressions=_values(leaf.value))
    return found if leaf.op == "in" else exp.Not(this=found)


def condition_sql(condition: Condition) -> exp.Expr:
    """The condition tree as one predicate (groups parenthesised where precedence needs it)."""
    if isinstance(condition, Compare):
        return _compare(condition)
    if isinstance(condition, SqlCondition):
        return exp.paren(parse_expression(condition.sql), copy=False)
    if isinstance(condition, Not):
        return exp.Not(this=exp.paren(condition_sql(condition.not_), copy=False))
    if isinstance(condition, AllOf):
        return exp.and_(*(condition_sql(c) for c in condition.and_), copy=False)
    if isinstance(condition, AnyOf):
        return exp.paren(exp.or_(*(condition_sql(c) for c in condition.or_), copy=False))
    raise TypeError(f"not a condition: {condition!r}")


def compile_filter(op: FilterOp, relation: Relation, ctx: Context) -> Step:
    del ctx  # the leaves' columns were checked against the input already
    select = select_from(relation, [exp.Star()]).where(condition_sql(op.where), copy=False)
    return Step(select, relation.columns)
