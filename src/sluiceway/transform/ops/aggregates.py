"""The aggregate operation, and the aggregate functions pivot and resample share."""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from sluiceway.transform.ops.expressions import alias, col
from sluiceway.transform.ops.spec import AggregateOp, Measure
from sluiceway.transform.ops.steps import Columns, Context, Relation, Step, select_from


def aggregate_sql(fn: str, argument: exp.Expr | None, q: float | None = None) -> exp.Expr:
    """One aggregate over ``argument`` (``None``: ``count(*)``). ``median`` and ``percentile``
    interpolate (``percentile_cont``), ``percentile_disc`` picks a value; ``stddev`` is the
    sample deviation on both engines."""
    if argument is None:
        return exp.Count(this=exp.Star())
    fraction = exp.Literal.number(repr(q)) if q is not None else None
    simple: dict[str, type[exp.Func]] = {
        "sum": exp.Sum,
        "avg": exp.Avg,
        "min": exp.Min,
        "max": exp.Max,
        "count": exp.Count,
        "median": exp.Median,
        "stddev": exp.StddevSamp,
    }
    if fn in simple:
        return simple[fn](this=argument)
    if fn == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[argument]))
    if fn == "percentile":
        return exp.PercentileCont(this=argument, expression=fraction)
    if fn == "percentile_disc":
        return exp.PercentileDisc(this=argument, expression=fraction)
    raise ValueError(f"unknown aggregate function {fn!r}")


def measure_sql(measure: Measure) -> exp.Expr:
    argument = col(measure.column) if measure.column is not None else None
    return aggregate_sql(measure.fn, argument, measure.q)


def measure_type(measure: Measure, relation: Relation) -> str | None:
    """The measure's DuckDB type where it is evident (counts, min and max)."""
    if measure.fn in {"count", "count_distinct"}:
        return "BIGINT"
    if measure.fn in {"min", "max", "percentile_disc"} and measure.column is not None:
        return (relation.columns or {}).get(measure.column)
    return None


def grouped(
    relation: Relation, group_by: list[str], measures: Mapping[str, exp.Expr]
) -> exp.Select:
    """``SELECT keys, measures FROM relation GROUP BY keys``."""
    selects: list[exp.Expr] = [col(name) for name in group_by]
    selects += [alias(expression, name) for name, expression in measures.items()]
    select = select_from(relation, selects)
    if group_by:
        select = select.group_by(*(col(name) for name in group_by), copy=False)
    return select


def compile_aggregate(op: AggregateOp, relation: Relation, ctx: Context) -> Step:
    del ctx
    measures = {name: measure_sql(measure) for name, measure in op.measures.items()}
    types = relation.columns or {}
    out: Columns = {name: types.get(name) for name in op.group_by}
    out.update({name: measure_type(m, relation) for name, m in op.measures.items()})
    return Step(grouped(relation, op.group_by, measures), out)
