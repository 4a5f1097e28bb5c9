"""Rules compiled to SQL: a violation predicate per row, aggregates per table.

Each rule spec (``sluiceway.spec.quality``) compiles to a :class:`CompiledRule`:

- ``flag`` — a boolean expression true for a row that violates the rule (row rules). The
  table rules that can name their failing rows, ``unique`` and ``outliers``, build theirs after
  the counting pass (:func:`unique_flag` uses a window, :func:`outlier_flag` the band the pass
  found); flags are evaluated in a projection over the checked relation, never in WHERE.
- ``aggregates`` — named aggregate expressions computed in the *one* scan every rule shares.
- ``judge`` — turns the aggregates into a verdict.

Everything is built as sqlglot expressions in DuckDB's dialect and transpiled for the
warehouse; values are literals built by sqlglot (quoted and escaped by it), never text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlglot
from sqlglot import exp

from sluiceway.core.names import TableRef
from sluiceway.quality.formats import DESCRIPTIONS, FORMATS
from sluiceway.spec.quality import (
    AcceptedValuesRule,
    CompletenessRule,
    ConsistencyRule,
    DriftRule,
    ExpressionRule,
    ForeignKeyRule,
    FormatRule,
    FreshnessRule,
    LengthRule,
    NotNullRule,
    OutliersRule,
    RangeRule,
    RegexRule,
    RowCountRule,
    UniqueRule,
)

DIMENSION = {
    "not_null": "completeness",
    "completeness": "completeness",
    "accepted_values": "validity",
    "range": "validity",
    "regex": "validity",
    "format": "validity",
    "length": "validity",
    "expression": "validity",
    "unique": "uniqueness",
    "foreign_key": "consistency",
    "consistency": "consistency",
    "row_count": "consistency",
    "freshness": "timeliness",
    "distribution_drift": "accuracy",
    "outliers": "accuracy",
}


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def table_expr(name: str, alias: str | None = None) -> exp.Table:
    ref = TableRef.parse(name)
    node = exp.table_(ref.name, db=ref.schema, quoted=True)
    if alias is not None:
        node.set("alias", exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
    return node


def literal(value: Any) -> exp.Expr:
    """A typed SQL literal: dates and timestamps are cast, so comparisons stay typed."""
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    return exp.convert(value)


def parse_sql(text: str) -> exp.Expr:
    return sqlglot.parse_one(text, read="duckdb")


def count_if(condition: exp.Expr) -> exp.Expr:
    return exp.CountIf(this=condition)


def is_true(condition: exp.Expr) -> exp.Expr:
    """``condition`` with NULL read as false, so a flag is always TRUE or FALSE."""
    return exp.func("COALESCE", exp.paren(condition), exp.false())


def as_text(column: exp.Expr) -> exp.Expr:
    return exp.cast(column, "VARCHAR")


@dataclass
class Verdict:
    """What a rule concluded from the numbers."""

    passed: bool
    failing: int
    observed: float | None
    observed_text: str
    threshold: str
    message: str


@dataclass
class CompiledRule:
    """A rule ready to run against a relation aliased ``alias``."""

    spec: Any
    rule_id: str
    kind: str
    columns: tuple[str, ...]
    dimension: str
    flag: exp.Expr | None = None  # row violation, computed in a projection: windows allowed
    aggregates: dict[str, exp.Expr] = field(default_factory=dict)
    message: str = ""

    def agg_name(self, what: str) -> str:
        return f"{self.rule_id}__{what}"


def compile_rule(spec: Any, alias: str) -> CompiledRule:
    """One rule spec → its SQL pieces, for a relation aliased ``alias``."""
    compiler = _COMPILERS.get(type(spec))
    if compiler is None:  # pragma: no cover - every spec type is registered below
        raise TypeError(f"no compiler for {type(spec).__name__}")
    compiled: CompiledRule = compiler(spec, alias)
    return compiled


def _base(spec: Any, columns: Sequence[str], message: str) -> CompiledRule:
    return CompiledRule(
        spec=spec,
        rule_id=spec.rule_id,
        kind=spec.kind,
        columns=tuple(columns),
        dimension=DIMENSION[spec.kind],
        message=message,
    )


def _row_rule(spec: Any, alias: str, violation: exp.Expr, message: str) -> CompiledRule:
    columns = [spec.column] if getattr(spec, "column", None) else []
    rule = _base(spec, columns, message)
    rule.flag = is_true(violation)
    return rule


def _not_null(spec: NotNullRule, alias: str) -> CompiledRule:
    return _row_rule(spec, alias, col(spec.column).is_(exp.null()), f"{spec.column} is NULL")


def _accepted(spec: AcceptedValuesRule, alias: str) -> CompiledRule:
    value: exp.Expr = col(spec.column)
    choices = [literal(v) for v in spec.values]
    if not spec.case_sensitive:
        value = exp.Lower(this=as_text(value))
        choices = [exp.Literal.string(str(v).lower()) for v in spec.values]
    shown = ", ".join(map(str, spec.values[:8])) + (" …" if len(spec.values) > 8 else "")
    return _row_rule(
        spec,
        alias,
        exp.not_(value.isin(*choices)),
        f"{spec.column} is not one of {shown}",
    )


def _range(spec: RangeRule, alias: str) -> CompiledRule:
    value = col(spec.column)
    outside: list[exp.Expr] = []
    bounds: list[str] = []
    if spec.min is not None:
        low = literal(spec.min)
        outside.append(
            exp.LTE(this=value, expression=low)
            if not spec.min_inclusive
            else exp.LT(this=value, expression=low)
        )
        bounds.append(f"{'≥' if spec.min_inclusive else '>'} {spec.min}")
    if spec.max is not None:
        high = literal(spec.max)
        outside.append(
            exp.GTE(this=value.copy(), expression=high)
            if not spec.max_inclusive
            else exp.GT(this=value.copy(), expression=high)
        )
        bounds.append(f"{'≤' if spec.max_inclusive else '<'} {spec.max}")
    return _row_rule(spec, alias, exp.or_(*outside), f"{spec.column} is not {' and '.join(bounds)}")


def _regex(column: str, pattern: str) -> exp.Expr:
    value = col(column)
    matches = exp.RegexpLike(this=as_text(value), expression=exp.Literal.string(pattern))
    return exp.and_(value.copy().is_(exp.null()).not_(), exp.not_(matches))


def _regex_rule(spec: RegexRule, alias: str) -> CompiledRule:
    message = f"{spec.column} does not match {spec.pattern}"
    return _row_rule(spec, alias, _regex(spec.column, spec.pattern), message)


def _format(spec: FormatRule, alias: str) -> CompiledRule:
    message = f"{spec.column} is not {DESCRIPTIONS[spec.format]}"
    return _row_rule(spec, alias, _regex(spec.column, FORMATS[spec.format]), message)


def _length(spec: LengthRule, alias: str) -> CompiledRule:
    length = exp.Length(this=as_text(col(spec.column)))
    outside: list[exp.Expr] = []
    if spec.min is not None:
        outside.append(exp.LT(this=length, expression=exp.Literal.number(spec.min)))
    if spec.max is not None:
        outside.append(exp.GT(this=length.copy(), expression=exp.Literal.number(spec.max)))
    if spec.min == spec.max:
        wanted = f"{spec.min} characters long"
    else:
        wanted = f"between {spec.min or 0} and {spec.max or '∞'} characters long"
    return _row_rule(spec, alias, exp.or_(*outside), f"{spec.column} is not {wanted}")


def _foreign_key(spec: ForeignKeyRule, alias: str) -> CompiledRule:
    ref = table_expr(spec.ref_table, "__ref")
    exists = exp.Exists(
        this=exp.select(exp.Literal.number(1))
        .from_(ref)
        .where(col(spec.ref_column, "__ref").eq(col(spec.column, alias)))
    )
    violation = exp.and_(col(spec.column, alias).is_(exp.null()).not_(), exp.not_(exists))
    message = f"{spec.column} has no match in {spec.references}"
    return _row_rule(spec, alias, violation, message)


def _expression(spec: ExpressionRule, alias: str) -> CompiledRule:
    condition = parse_sql(spec.expression)
    false = exp.Is(this=exp.paren(condition), expression=exp.false())
    if spec.join is not None:
        joined = table_expr(spec.join.table, spec.join.alias)
        violation: exp.Expr = exp.Exists(
            this=exp.select(exp.Literal.number(1))
            .from_(joined)
            .where(exp.and_(parse_sql(spec.join.on), false))
        )
    else:
        violation = false
    return _row_rule(spec, alias, violation, f"violates {spec.expression}")


def _unique(spec: UniqueRule, alias: str) -> CompiledRule:
    keys = [col(c) for c in spec.columns]
    rule = _base(spec, spec.columns, f"duplicate {', '.join(spec.columns)}")
    keyed = exp.and_(*[k.copy().is_(exp.null()).not_() for k in keys])
    if len(keys) == 1:
        key: exp.Expr = keys[0].copy()
    else:
        # A tuple with a NULL part is itself not NULL, so COUNT(DISTINCT) would count it: only
        # the keyed rows (those `keyed` counts) give a tuple, the others NULL.
        tuple_ = exp.Tuple(expressions=[k.copy() for k in keys])
        key = exp.Case(ifs=[exp.If(this=keyed.copy(), true=tuple_)])
    distinct = exp.Count(this=exp.Distinct(expressions=[key]))
    rule.aggregates = {
        rule.agg_name("keyed"): count_if(keyed),
        rule.agg_name("distinct"): distinct,
    }
    return rule


def unique_flag(spec: UniqueRule, order: exp.Expr | None) -> exp.Expr:
    """True for every row of a key but its first (in ``order``, else an arbitrary one)."""
    keys = [col(c) for c in spec.columns]
    window = exp.Window(
        this=exp.RowNumber(),
        partition_by=keys,
        order=exp.Order(expressions=[exp.Ordered(this=order)]) if order is not None else None,
    )
    keyed = exp.and_(*[k.copy().is_(exp.null()).not_() for k in keys])
    return exp.and_(keyed, exp.GT(this=window, expression=exp.Literal.number(1)))


def _row_count(spec: RowCountRule, alias: str) -> CompiledRule:
    rule = _base(spec, [], "row count out of bounds")
    rule.aggregates = {rule.agg_name("rows"): exp.Count(this=exp.Star())}
    return rule


def _freshness(spec: FreshnessRule, alias: str) -> CompiledRule:
    rule = _base(spec, [spec.column], f"{spec.column} is stale")
    rule.aggregates = {rule.agg_name("newest"): exp.Max(this=col(spec.column))}
    return rule


def _completeness(spec: CompletenessRule, alias: str) -> CompiledRule:
    rule = _base(spec, [spec.column], f"{spec.column} has too many NULLs")
    rule.aggregates = {rule.agg_name("nulls"): count_if(col(spec.column).is_(exp.null()))}
    return rule


def _outliers(spec: OutliersRule, alias: str) -> CompiledRule:
    value = col(spec.column)
    rule = _base(spec, [spec.column], f"{spec.column} is an outlier ({spec.method})")
    numeric = exp.cast(value, "DOUBLE")
    # Discrete quartiles (values of the column): QUANTILE_DISC in DuckDB, PERCENTILE_DISC …
    # WITHIN GROUP in PostgreSQL, which pick the same value (exp.Quantile has no PostgreSQL form).
    rule.aggregates = {
        rule.agg_name("mean"): exp.Avg(this=numeric),
        rule.agg_name("sd"): exp.func("STDDEV_SAMP", numeric.copy()),
        rule.agg_name("q1"): exp.PercentileDisc(
            this=numeric.copy(), expression=exp.Literal.number(0.25)
        ),
        rule.agg_name("q3"): exp.PercentileDisc(
            this=numeric.copy(), expression=exp.Literal.number(0.75)
        ),
        rule.agg_name("n"): exp.Count(this=value.copy()),
    }
    return rule


def outlier_bounds(
    spec: OutliersRule, values: Mapping[str, Any], rule_id: str
) -> tuple[float, float] | None:
    """The [low, high] band outside which a value is an outlier, from the first pass."""
    if spec.method == "zscore":
        mean, sd = values.get(f"{rule_id}__mean"), values.get(f"{rule_id}__sd")
        if mean is None or sd is None or sd == 0:
            return None
        return float(mean) - spec.limit * float(sd), float(mean) + spec.limit * float(sd)
    q1, q3 = values.get(f"{rule_id}__q1"), values.get(f"{rule_id}__q3")
    if q1 is None or q3 is None:
        return None
    iqr = float(q3) - float(q1)
    return float(q1) - spec.limit * iqr, float(q3) + spec.limit * iqr


def outlier_flag(spec: OutliersRule, low: float, high: float) -> exp.Expr:
    numeric = exp.cast(col(spec.column), "DOUBLE")
    return is_true(
        exp.or_(
            exp.LT(this=numeric, expression=exp.convert(low)),
            exp.GT(this=numeric.copy(), expression=exp.convert(high)),
        )
    )


def _drift(spec: DriftRule, alias: str) -> CompiledRule:
    return _base(spec, [spec.column], f"{spec.column} drifted")


def _consistency(spec: ConsistencyRule, alias: str) -> CompiledRule:
    return _base(spec, spec.left.key, "values disagree")


_COMPILERS: dict[type[Any], Any] = {
    NotNullRule: _not_null,
    AcceptedValuesRule: _accepted,
    RangeRule: _range,
    RegexRule: _regex_rule,
    FormatRule: _format,
    LengthRule: _length,
    ForeignKeyRule: _foreign_key,
    ExpressionRule: _expression,
    UniqueRule: _unique,
    RowCountRule: _row_count,
    FreshnessRule: _freshness,
    CompletenessRule: _completeness,
    OutliersRule: _outliers,
    DriftRule: _drift,
    ConsistencyRule: _consistency,
}


def side_query(side: Any, relation: exp.Expr, name: str) -> exp.Select:
    """One side of a consistency rule: ``key…, value AS <name>`` per key."""
    source = relation if side.table is None else table_expr(side.table)
    value = parse_sql(side.value)
    keys = [col(k) for k in side.key]
    # A NULL key matches nothing on the other side, so it is no key at all: left out.
    keyed = exp.and_(*[k.copy().is_(exp.null()).not_() for k in keys])
    query = exp.select(*keys, exp.alias_(value, name, quoted=True)).from_(source.copy())
    query = query.where(keyed)
    if side.where:
        query = query.where(parse_sql(side.where))
    if value.find(exp.AggFunc) is not None:
        query = query.group_by(*[k.copy() for k in keys])
    return query


def consistency_query(spec: ConsistencyRule, relation: exp.Expr) -> exp.Select:
    """Keys whose two values disagree by more than the tolerance (or exist on one side)."""
    left = side_query(spec.left, relation, "__left").subquery("l")
    right = side_query(spec.right, relation, "__right").subquery("r")
    on = exp.and_(
        *[col(a, "l").eq(col(b, "r")) for a, b in zip(spec.left.key, spec.right.key, strict=False)]
    )
    lv, rv = col("__left", "l"), col("__right", "r")
    differ = exp.GT(
        this=exp.Abs(this=exp.Sub(this=lv, expression=rv)),
        expression=exp.convert(spec.tolerance),
    )
    one_sided = exp.or_(lv.copy().is_(exp.null()), rv.copy().is_(exp.null()))
    if spec.missing == "fail":
        bad: exp.Expr = exp.or_(differ, one_sided)
    else:
        both = exp.and_(
            exp.or_(*[col(k, "l").is_(exp.null()).not_() for k in spec.left.key]),
            exp.or_(*[col(k, "r").is_(exp.null()).not_() for k in spec.right.key]),
        )
        bad = exp.and_(both, differ.copy())
    keys = [
        exp.alias_(exp.func("COALESCE", col(a, "l"), col(b, "r")), a, quoted=True)
        for a, b in zip(spec.left.key, spec.right.key, strict=False)
    ]
    return (
        exp.select(
            *keys,
            exp.alias_(lv.copy(), "left_value", quoted=True),
            exp.alias_(rv.copy(), "right_value", quoted=True),
        )
        .from_(left)
        .join(right, on=on, join_type="FULL")
        .where(bad)
    )
