"""Run rules against a relation: one shared scan for every count, a few small queries after.

:func:`evaluate` is what a load calls on its staged rows (and, with ``final=True``, on the table
after the merge, inside the same transaction); :func:`check_table` runs a rule set against any
table on demand. Both return :class:`RuleResult` objects; :class:`Evaluation` also carries
the violation predicates of the rules that must quarantine rows.

The shared scan is one ``SELECT count_if(flag₁), …, aggregates… FROM (SELECT *, flag₁, … FROM
relation)``: a million rows and twenty rules cost about one pass over the data, not twenty.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlglot import exp

from sluiceway.core.clock import utcnow
from sluiceway.core.durations import format_duration
from sluiceway.quality import rules as R
from sluiceway.quality.results import RuleResult
from sluiceway.quality.sql import SqlRunner
from sluiceway.spec.quality import (
    CompletenessRule,
    ConsistencyRule,
    DriftRule,
    FreshnessRule,
    OutliersRule,
    RowCountRule,
    RuleSpec,
    UniqueRule,
    check_rules,
)

SAMPLE_ROWS = 5
OUTLIER_SAMPLE_ROWS = 20

ProfileHistory = Callable[[int], Sequence[Mapping[str, Any]]]


@dataclass(frozen=True)
class LoadCounts:
    """A load's row arithmetic, for ``row_count`` with ``reconcile``."""

    source_rows: int  # rows the source produced, rejected ones included
    loaded: int  # rows inserted or updated in the target
    rejected: int  # rows in the dead-letter queue for this load
    merged: int  # rows folded into another row of the same key (dedupe, merge)
    unchanged: int = 0  # merged rows equal to the target's row of their key (not rewritten)
    deletions: int = 0  # rows that were deletions (applied to the target, not loaded)


@dataclass
class CheckContext:
    """What rules may need beyond the relation itself."""

    table: str
    now: datetime = field(default_factory=utcnow)
    order: exp.Expr | None = None  # arrival order of rows: "the first row of a key"
    hidden: frozenset[str] = frozenset()  # bookkeeping columns left out of samples
    profile: Mapping[str, Any] | None = None  # this load's profile (a TableProfile dict)
    history: ProfileHistory | None = None  # earlier loads' profiles, newest first
    counts: LoadCounts | None = None


@dataclass(frozen=True)
class QuarantineFlag:
    """Rows of the checked relation a rule sends to the dead-letter queue."""

    rule_id: str
    message: str
    column: str | None
    flag: exp.Expr  # true for a row to quarantine (may use window functions)


@dataclass
class Evaluation:
    results: list[RuleResult]
    quarantine: list[QuarantineFlag]

    @property
    def failures(self) -> list[RuleResult]:
        return [r for r in self.results if r.blocks_load]


def parse_rules(rules: Sequence[Any]) -> list[Any]:
    """Rule specs from YAML-shaped dicts (specs pass through), validated like a pipeline's."""
    adapter: TypeAdapter[Any] = TypeAdapter(RuleSpec)
    return check_rules([adapter.validate_python(r) if isinstance(r, Mapping) else r for r in rules])


def is_final(spec: Any) -> bool:
    """Whether a rule runs on the table after the merge (not on the staged rows)."""
    if isinstance(spec, RowCountRule) and spec.reconcile:
        return True
    return getattr(spec, "scope", "load") == "table"


def evaluate(
    runner: SqlRunner,
    relation: exp.Table,
    specs: Sequence[Any],
    context: CheckContext,
    *,
    final: bool = False,
) -> Evaluation:
    """Run the rules of one phase (staged rows, or ``final``: the table after the merge)."""
    alias = relation.alias_or_name
    chosen = [s for s in specs if is_final(s) == final]
    compiled = [R.compile_rule(s, alias) for s in chosen]
    if not compiled:
        return Evaluation([], [])
    values = _shared_scan(runner, relation, compiled)
    rows = int(values.get("__rows") or 0)
    bounds = _outlier_pass(runner, relation, compiled, values)
    results: list[RuleResult] = []
    flags: list[QuarantineFlag] = []
    for rule in compiled:
        verdict = _judge(
            runner,
            relation=relation,
            rule=rule,
            values=values,
            rows=rows,
            bounds=bounds,
            context=context,
        )
        sample: list[dict[str, Any]] = []
        if not verdict.passed or verdict.failing:
            sample = _sample(runner, relation=relation, rule=rule, bounds=bounds, context=context)
        results.append(_result(rule, verdict, rows, sample))
        if rule.spec.on_fail == "quarantine" and verdict.failing:
            flag = _quarantine_flag(rule, bounds, context)
            if flag is not None:
                flags.append(QuarantineFlag(rule.rule_id, verdict.message, _blame(rule), flag))
    return Evaluation(results, flags)


def check_table(
    runner: SqlRunner,
    relation: exp.Table | str,
    rules: Sequence[Any],
    *,
    table: str | None = None,
    profile: bool = False,
    history: ProfileHistory | None = None,
) -> TableCheck:
    """Every rule against a whole table (both phases), and optionally its profile.

    ``rules`` are specs or YAML-shaped dicts::

        check_table(DuckDBRunner(con), "orders", [{"rule": "not_null", "column": "id"}])
    """
    if isinstance(relation, str):
        relation = R.table_expr(relation)
    name = table or relation.sql()
    if not relation.alias:
        relation = relation.copy()
        relation.set("alias", exp.TableAlias(this=exp.to_identifier(relation.name, quoted=True)))
    specs = parse_rules(rules)
    profiled: Any = None
    if profile:
        from sluiceway.quality.profile import profile_table

        profiled = profile_table(runner, _unaliased(relation), table=name)
    context = CheckContext(
        table=name,
        profile=profiled.to_dict() if profiled is not None else None,
        history=history,
    )
    first = evaluate(runner, relation, specs, context)
    second = evaluate(runner, relation, specs, context, final=True)
    order = {s.rule_id: i for i, s in enumerate(specs)}
    results = sorted(first.results + second.results, key=lambda r: order[r.rule_id])
    return TableCheck(results=results, profile=profiled)


@dataclass
class TableCheck:
    results: list[RuleResult]
    profile: Any = None  # a TableProfile when asked for

    def result(self, rule_id: str) -> RuleResult:
        for result in self.results:
            if result.rule_id == rule_id:
                return result
        raise KeyError(rule_id)


# -- the passes ----------------------------------------------------------------------------


def _unaliased(relation: exp.Table) -> exp.Table:
    plain = relation.copy()
    plain.set("alias", None)
    return plain


def _flag_name(index: int) -> str:
    return f"__flag_{index}"


def _shared_scan(
    runner: SqlRunner, relation: exp.Table, compiled: Sequence[R.CompiledRule]
) -> dict[str, Any]:
    alias = relation.alias_or_name
    projections: list[exp.Expr] = [exp.alias_(exp.Count(this=exp.Star()), "__rows", quoted=True)]
    flags: list[exp.Expr] = []
    for index, rule in enumerate(compiled):
        if rule.flag is not None:
            name = _flag_name(index)
            flags.append(exp.alias_(rule.flag.copy(), name, quoted=True))
            failing = R.count_if(R.col(name))
            projections.append(exp.alias_(failing, rule.agg_name("failing"), quoted=True))
        for name, aggregate in rule.aggregates.items():
            projections.append(exp.alias_(aggregate.copy(), name, quoted=True))
    source: exp.Expr = relation.copy()
    if flags:
        inner = exp.select(exp.Star(), *flags).from_(relation.copy())
        source = inner.subquery(exp.to_identifier(alias, quoted=True))
    table = runner.fetch(exp.select(*projections).from_(source))
    row = table.to_pylist()[0] if table.num_rows else {}
    return dict(row)


@dataclass
class OutlierBands:
    """Per outlier rule: the band a value must lie in, and how many values lie outside it."""

    bands: dict[str, tuple[float, float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def _outlier_pass(
    runner: SqlRunner,
    relation: exp.Table,
    compiled: Sequence[R.CompiledRule],
    values: Mapping[str, Any],
) -> OutlierBands:
    """Outlier bands need the first pass's statistics; their counts take one more scan."""
    found = OutlierBands()
    counts: list[exp.Expr] = []
    for rule in compiled:
        if isinstance(rule.spec, OutliersRule):
            band = R.outlier_bounds(rule.spec, values, rule.rule_id)
            if band is not None:
                found.bands[rule.rule_id] = band
                flag = R.outlier_flag(rule.spec, *band)
                counts.append(exp.alias_(R.count_if(flag), rule.rule_id, quoted=True))
    if counts:
        row = runner.fetch(exp.select(*counts).from_(relation.copy())).to_pylist()[0]
        found.counts = {rule_id: int(value or 0) for rule_id, value in row.items()}
    return found


def _pct(share: float) -> str:
    return f"{share * 100:.2f}%".replace(".00%", "%")


def _judge(
    runner: SqlRunner,
    *,
    relation: exp.Table,
    rule: R.CompiledRule,
    values: Mapping[str, Any],
    rows: int,
    bounds: OutlierBands,
    context: CheckContext,
) -> R.Verdict:
    spec = rule.spec
    if rule.flag is not None:
        failing = int(values.get(rule.agg_name("failing")) or 0)
        share = failing / rows if rows else 0.0
        return R.Verdict(
            passed=failing == 0,
            failing=failing,
            observed=share,
            observed_text=f"{failing} of {rows} rows ({_pct(share)})",
            threshold="0 rows",
            message=rule.message,
        )
    if isinstance(spec, UniqueRule):
        keyed = int(values.get(rule.agg_name("keyed")) or 0)
        distinct = int(values.get(rule.agg_name("distinct")) or 0)
        extra = keyed - distinct
        return R.Verdict(
            passed=extra == 0,
            failing=extra,
            observed=float(extra),
            observed_text=f"{extra} duplicate row(s) over {keyed} keyed rows",
            threshold="0 duplicates",
            message=f"{', '.join(spec.columns)} is not unique",
        )
    if isinstance(spec, CompletenessRule):
        nulls = int(values.get(rule.agg_name("nulls")) or 0)
        share = nulls / rows if rows else 0.0
        return R.Verdict(
            passed=share <= spec.max_null_share,
            failing=nulls,
            observed=share,
            observed_text=f"{_pct(share)} NULL ({nulls} of {rows})",
            threshold=f"≤ {_pct(spec.max_null_share)}",
            message=f"{spec.column} is NULL in {_pct(share)} of rows",
        )
    if isinstance(spec, RowCountRule):
        return _row_count(spec, rows, context)
    if isinstance(spec, FreshnessRule):
        return _freshness(spec, values.get(rule.agg_name("newest")), context)
    if isinstance(spec, OutliersRule):
        found = bounds.counts.get(rule.rule_id, 0)
        share = found / rows if rows else 0.0
        band = bounds.bands.get(rule.rule_id)
        shown = f"[{band[0]:.6g}, {band[1]:.6g}]" if band else "no spread"
        return R.Verdict(
            passed=share <= spec.max_share,
            failing=found,
            observed=share,
            observed_text=f"{found} outlier(s) outside {shown} ({_pct(share)})",
            threshold=f"≤ {_pct(spec.max_share)} of rows",
            message=f"{spec.column} is outside {shown} ({spec.method})",
        )
    if isinstance(spec, ConsistencyRule):
        query = R.consistency_query(spec, relation)
        counted = runner.fetch(exp.select(exp.Count(this=exp.Star())).from_(query.subquery("c")))
        failing = int(counted.column(0)[0].as_py() or 0)
        return R.Verdict(
            passed=failing == 0,
            failing=failing,
            observed=float(failing),
            observed_text=f"{failing} key(s) disagree",
            threshold=f"|left - right| ≤ {spec.tolerance:g}",
            message=f"{spec.left.value} ≠ {spec.right.value} per {', '.join(spec.left.key)}",
        )
    if isinstance(spec, DriftRule):
        from sluiceway.quality.drift_check import judge_drift

        return judge_drift(runner, relation, spec, context)
    raise TypeError(f"no judge for {type(spec).__name__}")  # pragma: no cover


def _row_count(spec: RowCountRule, rows: int, context: CheckContext) -> R.Verdict:
    problems: list[str] = []
    if spec.min is not None and rows < spec.min:
        problems.append(f"{rows} rows, fewer than {spec.min}")
    if spec.max is not None and rows > spec.max:
        problems.append(f"{rows} rows, more than {spec.max}")
    texts = [f"{rows} rows"]
    thresholds = []
    if spec.min is not None or spec.max is not None:
        thresholds.append(
            f"between {spec.min or 0} and {spec.max if spec.max is not None else '∞'}"
        )
    if spec.reconcile:
        thresholds.append("source = loaded + rejected + merged + unchanged + deletions")
        counts = context.counts
        if counts is None:
            texts.append("no load to reconcile")
        else:
            accounted = (
                counts.loaded
                + counts.rejected
                + counts.merged
                + counts.unchanged
                + counts.deletions
            )
            unchanged = f" + unchanged {counts.unchanged}" if counts.unchanged else ""
            deletions = f" + deletions {counts.deletions}" if counts.deletions else ""
            texts.append(
                f"source {counts.source_rows} vs loaded {counts.loaded} + rejected "
                f"{counts.rejected} + merged {counts.merged}{unchanged}{deletions} = {accounted}"
            )
            if accounted != counts.source_rows:
                problems.append(
                    f"{counts.source_rows - accounted:+d} row(s) unaccounted for between the "
                    "source and the target"
                )
    return R.Verdict(
        passed=not problems,
        failing=0 if not problems else 1,
        observed=float(rows),
        observed_text="; ".join(texts),
        threshold="; ".join(thresholds),
        message="; ".join(problems) or "row count as expected",
    )


def _as_utc(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def _freshness(spec: FreshnessRule, newest: Any, context: CheckContext) -> R.Verdict:
    at = _as_utc(newest)
    threshold = f"≤ {format_duration(spec.max_age)} old"
    if at is None:
        return R.Verdict(
            passed=False,
            failing=1,
            observed=None,
            observed_text="no values",
            threshold=threshold,
            message=f"{spec.column} has no values, so the table's freshness is unknown",
        )
    age = context.now - at
    return R.Verdict(
        passed=age <= spec.max_age,
        failing=0 if age <= spec.max_age else 1,
        observed=age.total_seconds(),
        observed_text=f"newest {at.isoformat()} ({format_duration(max(age, timedelta()))} old)",
        threshold=threshold,
        message=f"the newest {spec.column} is {format_duration(age)} old",
    )


def _blame(rule: R.CompiledRule) -> str | None:
    return ", ".join(rule.columns) or None


def _quarantine_flag(
    rule: R.CompiledRule, bounds: OutlierBands, context: CheckContext
) -> exp.Expr | None:
    spec = rule.spec
    if rule.flag is not None:
        return rule.flag.copy()
    if isinstance(spec, UniqueRule):
        return R.unique_flag(spec, context.order)
    if isinstance(spec, OutliersRule) and rule.rule_id in bounds.bands:
        return R.outlier_flag(spec, *bounds.bands[rule.rule_id])
    return None


def _sample(
    runner: SqlRunner,
    *,
    relation: exp.Table,
    rule: R.CompiledRule,
    bounds: OutlierBands,
    context: CheckContext,
) -> list[dict[str, Any]]:
    """A few failing rows (duplicate groups for ``unique``, keys for ``consistency``)."""
    spec = rule.spec
    if isinstance(spec, UniqueRule):
        keys = [R.col(c) for c in spec.columns]
        keyed = exp.and_(*[k.copy().is_(exp.null()).not_() for k in keys])
        count = exp.Count(this=exp.Star())
        query = (
            exp.select(*keys, exp.alias_(count, "rows", quoted=True))
            .from_(relation.copy())
            .where(keyed)
            .group_by(*[k.copy() for k in keys])
            .having(exp.GT(this=count.copy(), expression=exp.Literal.number(1)))
            .order_by(exp.Ordered(this=R.col("rows"), desc=True), *[k.copy() for k in keys])
            .limit(SAMPLE_ROWS)
        )
        return _json_rows(runner.fetch(query))
    if isinstance(spec, ConsistencyRule):
        query = R.consistency_query(spec, relation).limit(SAMPLE_ROWS)
        return _json_rows(runner.fetch(query))
    flag = _quarantine_flag(rule, bounds, context)
    if flag is None:
        return []
    limit = OUTLIER_SAMPLE_ROWS if isinstance(spec, OutliersRule) else SAMPLE_ROWS
    alias = relation.alias_or_name
    inner = exp.select(exp.Star(), exp.alias_(flag, "__failing", quoted=True)).from_(
        relation.copy()
    )
    query = (
        exp.select(exp.Star())
        .from_(inner.subquery(exp.to_identifier(alias, quoted=True)))
        .where(R.col("__failing"))
        .limit(limit)
    )
    hidden = set(context.hidden) | {"__failing"}
    return [
        {k: v for k, v in row.items() if k not in hidden} for row in _json_rows(runner.fetch(query))
    ]


def _json_rows(table: Any) -> list[dict[str, Any]]:
    return [{k: _json_value(v) for k, v in row.items()} for row in table.to_pylist()]


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime) and value.tzinfo is not None:
        # In UTC, like the profile: a driver hands zoned values back in the session's zone.
        return value.astimezone(UTC).isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return str(value)


def _result(
    rule: R.CompiledRule, verdict: R.Verdict, rows: int, sample: list[dict[str, Any]]
) -> RuleResult:
    spec = rule.spec
    return RuleResult(
        rule_id=rule.rule_id,
        rule=rule.kind,
        columns=rule.columns,
        dimension=rule.dimension,
        severity=spec.severity,
        on_fail=spec.on_fail,
        scope=str(getattr(spec, "scope", "load")),
        passed=verdict.passed,
        failing=verdict.failing,
        checked=rows,
        observed=verdict.observed,
        observed_text=verdict.observed_text,
        threshold=verdict.threshold,
        message=verdict.message,
        sample=sample,
    )
