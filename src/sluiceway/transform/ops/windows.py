"""Window operations: ranks, lag/lead, running sums, moving averages; and dedupe."""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from sluiceway.transform.ops.expressions import col, literal, ordered, rows_frame, window
from sluiceway.transform.ops.spec import DedupeOp, OrderBy, WindowColumn, WindowOp
from sluiceway.transform.ops.steps import Context, Relation, Step, select_from, with_columns


def orderings(items: Sequence[OrderBy], *, reverse: bool = False) -> list[exp.Ordered]:
    """The terms with NULLs placed explicitly (last unless asked); ``reverse`` flips each
    direction, and an explicit NULL placement with it."""
    found = []
    for item in items:
        nulls_first = item.nulls == "first"
        if reverse and item.nulls is not None:
            nulls_first = not nulls_first
        found.append(ordered(col(item.column), desc=item.desc != reverse, nulls_first=nulls_first))
    return found


def _function(spec: WindowColumn) -> tuple[exp.Expr, exp.WindowSpec | None]:
    """The window's function, and its frame when the default one would not do."""
    argument = col(spec.column) if spec.column is not None else None
    if spec.fn == "row_number":
        return exp.RowNumber(), None
    if spec.fn == "rank":
        return exp.Rank(), None
    if spec.fn == "dense_rank":
        return exp.DenseRank(), None
    if spec.fn == "ntile":
        return exp.Ntile(this=exp.Literal.number(spec.buckets)), None
    if spec.fn in {"lag", "lead"}:
        kind = exp.Lag if spec.fn == "lag" else exp.Lead
        offset = exp.Literal.number(spec.offset or 1)
        default = literal(spec.default) if spec.default is not None else None
        return kind(this=argument, offset=offset, default=default), None
    if spec.fn == "running_sum":
        return exp.Sum(this=argument), rows_frame(None)
    return exp.Avg(this=argument), rows_frame((spec.rows or 1) - 1)


def _type(spec: WindowColumn, relation: Relation) -> str | None:
    if spec.fn in {"row_number", "rank", "dense_rank", "ntile"}:
        return "BIGINT"
    if spec.fn in {"lag", "lead"} and spec.column is not None:
        return (relation.columns or {}).get(spec.column)
    return None


def compile_window(op: WindowOp, relation: Relation, ctx: Context) -> Step:
    del ctx
    partition = [col(name) for name in op.partition_by]
    order = orderings(op.order_by)
    new: dict[str, exp.Expr] = {}
    for name, spec in op.columns.items():
        function, frame = _function(spec)
        new[name] = window(
            function,
            partition_by=[p.copy() for p in partition],
            order_by=[o.copy() for o in order],
            frame=frame,
        )
    types = {name: _type(spec, relation) for name, spec in op.columns.items()}
    selects, out = with_columns(relation, new, types)
    return Step(select_from(relation, selects), out)


def compile_dedupe(op: DedupeOp, relation: Relation, ctx: Context) -> Step:
    """``SELECT DISTINCT ON (key) * ... ORDER BY key, order``: the same on both engines
    (a QUALIFY would need the column list on PostgreSQL)."""
    del ctx
    select = select_from(relation, [exp.Star()])
    select.set("distinct", exp.Distinct(on=exp.Tuple(expressions=[col(k) for k in op.key])))
    order = [ordered(col(k)) for k in op.key]
    order += orderings(op.order_by, reverse=op.keep == "last")
    select.set("order", exp.Order(expressions=order))
    return Step(select, relation.columns)
