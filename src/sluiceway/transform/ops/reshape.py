"""Reshaping operations: pivot (rows to columns) and unpivot (columns to rows).

Neither uses DuckDB's ``PIVOT`` / ``UNPIVOT`` statements, which PostgreSQL lacks: a pivot is
one filtered aggregate per listed category (``sum(x) FILTER (WHERE k = 'a')``), an unpivot a
lateral ``VALUES`` list, so both engines run the same SQL.
"""

from __future__ import annotations

from sqlglot import exp

from sluiceway.transform.ops.aggregates import aggregate_sql, grouped
from sluiceway.transform.ops.expressions import cast, col, datatype, ident, literal
from sluiceway.transform.ops.spec import PivotOp, UnpivotOp
from sluiceway.transform.ops.steps import Columns, Context, Relation, Step

SOURCE, UNPIVOTED = "t", "u"


def compile_pivot(op: PivotOp, relation: Relation, ctx: Context) -> Step:
    del ctx
    measures: dict[str, exp.Expr] = {}
    argument = col(op.values) if op.values is not None else None
    for category in op.categories:
        aggregate = aggregate_sql(op.agg, argument.copy() if argument else None, op.q)
        where = exp.Where(this=exp.EQ(this=col(op.column), expression=literal(category)))
        measures[op.column_name(category)] = exp.Filter(this=aggregate, expression=where)
    types = relation.columns or {}
    out: Columns = {name: types.get(name) for name in op.index}
    kind = "BIGINT" if op.agg in {"count", "count_distinct"} else None
    out.update({name: kind for name in measures})
    return Step(grouped(relation, op.index, measures), out)


def _split(op: UnpivotOp, relation: Relation, ctx: Context) -> tuple[list[str], list[str]]:
    """(the columns kept, the columns unpivoted)."""
    if op.columns is not None and op.index is not None:
        return op.index, op.columns
    known = ctx.known(relation, "unpivot names the columns it does not list")
    if op.columns is not None:
        return [c for c in known if c not in op.columns], op.columns
    index = op.index or []
    unpivoted = [c for c in known if c not in index]
    if not unpivoted:
        raise ctx.error("no columns are left to unpivot")
    return index, unpivoted


def compile_unpivot(op: UnpivotOp, relation: Relation, ctx: Context) -> Step:
    index, unpivoted = _split(op, relation, ctx)
    if clash := {op.name, op.value} & set(index):
        raise ctx.error(f"the output columns {sorted(clash)} are named like kept columns")
    target = datatype(op.value_type) if op.value_type is not None else None
    rows = []
    for name in unpivoted:
        value: exp.Expr = col(name, SOURCE)
        rows.append(
            exp.Tuple(
                expressions=[exp.Literal.string(name), cast(value, target) if target else value]
            )
        )
    values = exp.Lateral(
        this=exp.Subquery(this=exp.Values(expressions=rows)),
        view=False,
        outer=False,
        alias=exp.TableAlias(this=ident(UNPIVOTED), columns=[ident(op.name), ident(op.value)]),
    )
    source = relation.source.copy()
    source.set("alias", exp.TableAlias(this=ident(SOURCE)))
    selects: list[exp.Expr] = [col(name, SOURCE) for name in index]
    selects += [col(op.name, UNPIVOTED), col(op.value, UNPIVOTED)]
    select = exp.select(*selects).from_(source, copy=False)
    select.set("joins", [exp.Join(this=values, kind="CROSS")])
    if not op.include_nulls:
        select = select.where(
            exp.Not(this=exp.Is(this=col(op.value, UNPIVOTED), expression=exp.null())), copy=False
        )
    types = relation.columns or {}
    value_types = {types.get(name) for name in unpivoted}
    common = op.value_type or (value_types.pop() if len(value_types) == 1 else None)
    out: Columns = {name: types.get(name) for name in index}
    out.update({op.name: "VARCHAR", op.value: common})
    return Step(select, out)
