"""Time-series resampling with gap filling, over a generated time spine.

The chain, as helper CTEs of the operation::

    buckets  one row per (key, bucket) that has rows: the measures
    bounds   per key, the first and last bucket (or the given start / end)
    spine    per key, every bucket in between: generate_series(first, last, every)
    result   spine LEFT JOIN buckets, gaps filled

Buckets are ``date_trunc`` for calendar units (month, quarter, year) and ``time_bucket`` from a
Monday origin otherwise (``date_bin`` on PostgreSQL). ``generate_series`` is a table function on
both engines, called laterally per key, and includes its end on both.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlglot import exp

from sluiceway.transform.ops.aggregates import measure_sql, measure_type
from sluiceway.transform.ops.expressions import (
    alias,
    cast,
    col,
    ident,
    literal,
    ordered,
    rows_frame,
    window,
)
from sluiceway.transform.ops.spec import CALENDAR_UNITS, ResampleOp
from sluiceway.transform.ops.steps import Columns, Context, Relation, Step, select_from

ORIGIN = "2000-01-03 00:00:00"
"""Where sub-month buckets start counting: a Monday, so weekly buckets start on Mondays (as
``date_trunc('week', ...)`` does on both engines)."""

BUCKETS, SPINE, BOUNDS, FILLED = "a", "s", "b", "f"
LOW, HIGH = "lo", "hi"


def interval(count: int, unit: str) -> exp.Interval:
    return exp.Interval(this=exp.Literal.string(str(count)), unit=exp.var(unit.upper()))


def bucket_of(value: exp.Expr, count: int, unit: str) -> exp.Expr:
    """The start of the bucket holding ``value`` (cast to TIMESTAMP first: PostgreSQL's
    ``date_trunc`` of a DATE is a TIMESTAMPTZ)."""
    timestamp = cast(value, "TIMESTAMP")
    if unit in CALENDAR_UNITS:
        return exp.TimestampTrunc(this=timestamp, unit=exp.var(unit.upper()))
    origin = cast(exp.Literal.string(ORIGIN), "TIMESTAMP")
    return exp.DateBin(this=interval(count, unit), expression=timestamp, unit=origin)


def _bound(value: datetime | date | None, found: exp.Expr, op: ResampleOp) -> exp.Expr:
    return found if value is None else bucket_of(literal(value), *op.interval)


def _keys_match(op: ResampleOp) -> exp.Expr:
    pairs = [(name, name) for name in op.group_by] + [(op.time, op.time)]
    return exp.and_(
        *(exp.NullSafeEQ(this=col(a, SPINE), expression=col(b, BUCKETS)) for a, b in pairs),
        copy=False,
    )


def _helpers(
    op: ResampleOp, relation: Relation, ctx: Context
) -> tuple[str, str, list[tuple[str, exp.Query]]]:
    """(the buckets CTE, the spine CTE, every helper CTE in order)."""
    count, unit = op.interval
    bucket = bucket_of(col(op.time), count, unit)
    keys = [col(name) for name in op.group_by]
    measures = [alias(measure_sql(m), name) for name, m in op.measures.items()]
    buckets = (
        select_from(relation, [*keys, alias(bucket, op.time), *measures])
        .where(exp.Not(this=exp.Is(this=col(op.time), expression=exp.null())), copy=False)
        .group_by(*(k.copy() for k in keys), bucket.copy(), copy=False)
    )
    buckets_name = ctx.fresh("buckets")
    low = _bound(op.start, exp.Min(this=col(op.time)), op)
    high = _bound(op.end, exp.Max(this=col(op.time)), op)
    bounds = exp.select(*(k.copy() for k in keys), alias(low, LOW), alias(high, HIGH))
    # Without keys and with both ends given, the bounds are constants: no FROM, one row, so
    # there is a spine even over no rows.
    if keys or op.start is None or op.end is None:
        bounds = bounds.from_(exp.Table(this=ident(buckets_name)), copy=False)
    if keys:
        bounds = bounds.group_by(*(k.copy() for k in keys), copy=False)
    bounds_name = ctx.fresh("bounds")
    series = exp.Table(
        this=exp.GenerateSeries(
            start=col(LOW, BOUNDS),
            end=col(HIGH, BOUNDS),
            step=interval(count, unit),
            is_end_exclusive=False,
        ),
        alias=exp.TableAlias(this=ident(SPINE), columns=[ident(op.time)]),
    )
    spine = exp.select(*(col(k, BOUNDS) for k in op.group_by), col(op.time, SPINE)).from_(
        _aliased(bounds_name, BOUNDS), copy=False
    )
    spine.set("joins", [exp.Join(this=series)])
    spine_name = ctx.fresh("spine")
    helpers: list[tuple[str, exp.Query]] = [
        (buckets_name, buckets),
        (bounds_name, bounds),
        (spine_name, spine),
    ]
    return buckets_name, spine_name, helpers


_SUB_DAY = frozenset({"second", "minute", "hour"})


def _time_output(op: ResampleOp, relation: Relation, time: exp.Expr) -> tuple[exp.Expr, str]:
    """The bucket as output: a DATE again when the input was one and buckets are whole days."""
    kind = relation.type_of(op.time)
    if kind is not None and kind.is_type(exp.DataType.Type.DATE) and op.interval[1] not in _SUB_DAY:
        return cast(time, "DATE"), "DATE"
    return time, "TIMESTAMP"


def _aliased(name: str, alias_name: str) -> exp.Table:
    return exp.Table(this=ident(name), alias=exp.TableAlias(this=ident(alias_name)))


def _spine_joined(op: ResampleOp, spine_name: str, buckets_name: str) -> exp.Select:
    """Every bucket of the spine, with the measures of the buckets that have rows."""
    joined = exp.select(*(col(k, SPINE) for k in op.group_by), col(op.time, SPINE))
    joined = joined.from_(_aliased(spine_name, SPINE), copy=False)
    on = _keys_match(op)
    joined.set("joins", [exp.Join(this=_aliased(buckets_name, BUCKETS), on=on, side="LEFT")])
    return joined


def _forward_runs(op: ResampleOp, joined: exp.Select) -> None:
    """Add each measure and its run number to ``joined``: a run of gaps shares its number with
    the last row before it that has a value (the count of values so far), so the run's maximum
    is that value. No ``IGNORE NULLS``, which PostgreSQL's ``last_value`` lacks."""
    for name in op.measures:
        runs = window(
            exp.Count(this=col(name, BUCKETS)),
            partition_by=[col(k, SPINE) for k in op.group_by],
            order_by=[ordered(col(op.time, SPINE))],
            frame=rows_frame(None),
        )
        joined.select(col(name, BUCKETS), alias(runs, f"_run_{name}"), copy=False)


def _filled(op: ResampleOp, name: str) -> exp.Expr:
    """A measure with its gaps filled as ``fill`` says."""
    if op.fill == "forward":
        runs = [*(col(k, FILLED) for k in op.group_by), col(f"_run_{name}", FILLED)]
        return window(exp.Max(this=col(name, FILLED)), partition_by=runs)
    if op.fill == "zero":
        return exp.Coalesce(this=col(name, BUCKETS), expressions=[exp.Literal.number(0)])
    return col(name, BUCKETS)


def compile_resample(op: ResampleOp, relation: Relation, ctx: Context) -> Step:
    buckets_name, spine_name, helpers = _helpers(op, relation, ctx)
    joined = _spine_joined(op, spine_name, buckets_name)
    if op.fill == "forward":
        _forward_runs(op, joined)
        filled_name = ctx.fresh("joined")
        helpers.append((filled_name, joined))
        final, source = exp.select().from_(_aliased(filled_name, FILLED), copy=False), FILLED
    else:
        final, source = joined, SPINE
        final.set("expressions", [])
    time, time_type = _time_output(op, relation, col(op.time, source))
    final.select(*(col(k, source) for k in op.group_by), alias(time, op.time), copy=False)
    final.select(*(alias(_filled(op, name), name) for name in op.measures), copy=False)
    types = relation.columns or {}
    out: Columns = {name: types.get(name) for name in op.group_by}
    out[op.time] = time_type
    out.update({name: measure_type(m, relation) for name, m in op.measures.items()})
    return Step(final, out, helpers)
