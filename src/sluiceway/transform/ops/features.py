"""Feature engineering: age, days since, RFM scores, bins.

Date arithmetic is spelled so both engines compute it the same way: ages from year, month and
day parts (not ``age()``, whose intervals the engines break down differently), day counts as a
DATE minus a DATE (an integer on both).
"""

from __future__ import annotations

import itertools
import math
from datetime import date, datetime

from sqlglot import exp

from sluiceway.transform.ops.expressions import alias, cast, col, ident, literal, ordered, window
from sluiceway.transform.ops.spec import AgeOp, BinOp, DaysSinceOp, RfmOp
from sluiceway.transform.ops.steps import Context, Relation, Step, select_from, with_columns


def _as_of(value: datetime | date | None) -> exp.Expr:
    """The reference day as a DATE: the given one, or today."""
    if value is None:
        return exp.CurrentDate()
    return literal(value.date() if isinstance(value, datetime) else value)


def _part(unit: str, value: exp.Expr) -> exp.Expr:
    return exp.Extract(this=exp.var(unit), expression=value)


def whole_years(born: exp.Expr, as_of: exp.Expr) -> exp.Expr:
    """Birthdays passed from ``born`` to ``as_of``: the years between them, less one when
    ``as_of``'s month and day come before ``born``'s (someone born on 29 February turns a year
    older on 1 March in other years)."""

    def month_day(value: exp.Expr) -> exp.Expr:
        month = exp.Mul(this=_part("MONTH", value), expression=exp.Literal.number(100))
        return exp.Add(this=month, expression=_part("DAY", value.copy()))

    years = exp.Sub(this=_part("YEAR", as_of), expression=_part("YEAR", born))
    before = exp.LT(this=month_day(as_of.copy()), expression=month_day(born.copy()))
    early = exp.Case(
        ifs=[exp.If(this=before, true=exp.Literal.number(1))], default=exp.Literal.number(0)
    )
    return cast(exp.Sub(this=years, expression=early), "INTEGER")


def compile_age(op: AgeOp, relation: Relation, ctx: Context) -> Step:
    del ctx
    years = whole_years(cast(col(op.column), "DATE"), _as_of(op.as_of))
    selects, out = with_columns(relation, {op.name: years}, {op.name: "INTEGER"})
    return Step(select_from(relation, selects), out)


def days_between(start: exp.Expr, end: exp.Expr) -> exp.Expr:
    """Whole days from ``start`` to ``end`` (two DATEs: their difference is an integer on both
    engines), as BIGINT."""
    return cast(exp.Sub(this=end, expression=start), "BIGINT")


def compile_days_since(op: DaysSinceOp, relation: Relation, ctx: Context) -> Step:
    del ctx
    days = days_between(cast(col(op.column), "DATE"), _as_of(op.as_of))
    selects, out = with_columns(relation, {op.output: days}, {op.output: "BIGINT"})
    return Step(select_from(relation, selects), out)


# -- RFM ------------------------------------------------------------------------------------

RFM_COLUMNS = ("recency", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_segment")
"""The columns ``rfm`` outputs after the customer key."""


def _score(name: str, bins: int, *, best_low: bool, tie_break: exp.Expr) -> exp.Expr:
    """``ntile`` with the best values in the top bucket and NULLs in the bottom one; ties are
    broken by a hash of the key, which orders the same on every engine (hex digits compare the
    same under any collation, unlike the keys themselves)."""
    return window(
        exp.Ntile(this=exp.Literal.number(bins)),
        order_by=[
            ordered(col(name), desc=best_low, nulls_first=True),
            ordered(tie_break.copy()),
        ],
    )


def compile_rfm(op: RfmOp, relation: Relation, ctx: Context) -> Step:
    last_order = exp.Max(this=cast(col(op.date), "DATE"))
    base = select_from(
        relation,
        [
            col(op.customer),
            alias(days_between(last_order, _as_of(op.as_of)), "recency"),
            alias(exp.Count(this=exp.Star()), "frequency"),
            alias(exp.Sum(this=col(op.amount)), "monetary"),
        ],
    ).group_by(col(op.customer), copy=False)
    base_name = ctx.fresh("rfm")
    tie_break = exp.MD5(this=cast(col(op.customer), "VARCHAR"))
    scores = exp.select(
        col(op.customer),
        *(col(name) for name in RFM_COLUMNS[:3]),
        alias(_score("recency", op.bins, best_low=True, tie_break=tie_break), "r_score"),
        alias(_score("frequency", op.bins, best_low=False, tie_break=tie_break), "f_score"),
        alias(_score("monetary", op.bins, best_low=False, tie_break=tie_break), "m_score"),
    ).from_(exp.Table(this=ident(base_name)), copy=False)
    scores_name = ctx.fresh("rfm_scores")
    segment: exp.Expr = cast(col("r_score"), "VARCHAR")
    for name in ("f_score", "m_score"):
        segment = exp.DPipe(this=segment, expression=cast(col(name), "VARCHAR"), safe=True)
    final = exp.select(
        col(op.customer), *(col(name) for name in RFM_COLUMNS[:6]), alias(segment, "rfm_segment")
    ).from_(exp.Table(this=ident(scores_name)), copy=False)
    types = relation.columns or {}
    out = {op.customer: types.get(op.customer), "recency": "BIGINT", "frequency": "BIGINT"}
    out |= {"monetary": None, "r_score": "BIGINT", "f_score": "BIGINT", "m_score": "BIGINT"}
    out["rfm_segment"] = "VARCHAR"
    return Step(final, out, [(base_name, base), (scores_name, scores)])


# -- bins -----------------------------------------------------------------------------------


def _edge_bins(value: exp.Expr, op: BinOp) -> list[tuple[exp.Expr, int]]:
    """(condition, bin number) per pair of edges; an infinite edge leaves its side open."""
    edges = op.edges or []
    found: list[tuple[exp.Expr, int]] = []
    for number, (low, high) in enumerate(itertools.pairwise(edges), start=1):
        above = exp.GTE if op.closed == "left" else exp.GT
        below = exp.LT if op.closed == "left" else exp.LTE
        tests: list[exp.Expr] = []
        if not math.isinf(low):
            tests.append(above(this=value.copy(), expression=_number(low)))
        if not math.isinf(high):
            tests.append(below(this=value.copy(), expression=_number(high)))
        test = (
            exp.and_(*tests, copy=False)
            if tests
            else exp.Not(this=exp.Is(this=value.copy(), expression=exp.null()))
        )
        found.append((test, number))
    return found


def _number(value: float) -> exp.Expr:
    return exp.Literal.number(int(value) if value.is_integer() else repr(value))


def _equal_width(value: exp.Expr, op: BinOp) -> exp.Expr:
    """The bin number of ``value`` among ``count`` equal-width bins over the data's range,
    computed in DOUBLE on both engines. The maximum goes in the last bin (the minimum in the
    first with ``closed: right``); a range of one value is bin 1. (A CASE, not LEAST / GREATEST,
    which sqlglot renders for DuckDB wrapped in NULL checks of its own.)"""
    count = exp.Literal.number(op.bin_count)
    number = cast(value.copy(), "DOUBLE")
    low = cast(window(exp.Min(this=value.copy())), "DOUBLE")
    high = cast(window(exp.Max(this=value.copy())), "DOUBLE")
    share = exp.Div(
        this=exp.paren(exp.Sub(this=number.copy(), expression=low.copy())),
        expression=exp.paren(exp.Sub(this=high.copy(), expression=low.copy())),
    )
    scaled = exp.Mul(this=share, expression=count.copy())
    if op.closed == "left":
        edge: exp.Expr = exp.If(this=exp.EQ(this=number, expression=high.copy()), true=count)
        inside: exp.Expr = exp.Add(
            this=cast(exp.Floor(this=scaled), "INTEGER"), expression=exp.Literal.number(1)
        )
    else:
        edge = exp.If(this=exp.EQ(this=number, expression=low.copy()), true=exp.Literal.number(1))
        inside = cast(exp.Ceil(this=scaled), "INTEGER")
    single = exp.If(this=exp.EQ(this=high, expression=low), true=exp.Literal.number(1))
    return exp.Case(ifs=[single, edge], default=inside)


def compile_bin(op: BinOp, relation: Relation, ctx: Context) -> Step:
    del ctx
    value = col(op.column)
    labels = op.labels
    if op.edges is not None:
        bins = _edge_bins(value, op)
        result: exp.Expr = exp.Case(
            ifs=[
                exp.If(
                    this=test,
                    true=exp.Literal.string(labels[n - 1]) if labels else exp.Literal.number(n),
                )
                for test, n in bins
            ]
        )
    else:
        number = _equal_width(value, op)
        result = (
            number
            if not labels
            else exp.Case(
                this=number,
                ifs=[
                    exp.If(this=exp.Literal.number(n), true=exp.Literal.string(label))
                    for n, label in enumerate(labels, start=1)
                ],
            )
        )
    kind = "VARCHAR" if labels else "INTEGER"
    selects, out = with_columns(relation, {op.output: result}, {op.output: kind})
    return Step(select_from(relation, selects), out)
