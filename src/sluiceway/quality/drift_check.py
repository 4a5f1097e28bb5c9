"""The ``distribution_drift`` rule: this load's column against the previous loads' profiles.

Numbers are compared through their 101-point quantile sketches (PSI over the reference's
deciles, and the KS statistic); text through the shares of its most frequent values. The
reference is the pooled sketch of the last ``window`` loads' stored profiles, so drift works
whatever the write disposition (a replaced table keeps no earlier rows, its profiles remain).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from sluiceway.quality import drift
from sluiceway.quality.rules import Verdict
from sluiceway.quality.sql import SqlRunner
from sluiceway.spec.quality import DriftRule

if TYPE_CHECKING:
    from sluiceway.quality.check import CheckContext


def _column(profile: Mapping[str, Any] | None, name: str) -> Mapping[str, Any] | None:
    if profile is None:
        return None
    for column in profile.get("columns", ()):
        if column.get("name") == name:
            return dict(column)
    return None


def current_column(
    runner: SqlRunner, relation: exp.Table, spec: DriftRule, context: CheckContext
) -> Mapping[str, Any] | None:
    """The column's profile in this load: from the load's profile, else profiled now."""
    found = _column(context.profile, spec.column)
    if found is not None:
        return found
    from sluiceway.quality.profile import profile_table

    plain = relation.copy()
    plain.set("alias", None)
    profile = profile_table(runner, plain, table=context.table, columns=[spec.column])
    return _column(profile.to_dict(), spec.column)


def judge_drift(
    runner: SqlRunner, relation: exp.Table, spec: DriftRule, context: CheckContext
) -> Verdict:
    current = current_column(runner, relation, spec, context)
    earlier = list(context.history(spec.window)) if context.history is not None else []
    references = [c for c in (_column(p, spec.column) for p in earlier) if c is not None]
    if current is None or not references:
        return Verdict(
            passed=True,
            failing=0,
            observed=None,
            observed_text="no earlier loads to compare with yet",
            threshold=_threshold(spec),
            message=f"{spec.column}: no reference distribution yet",
        )
    if current.get("sketch") and all(r.get("sketch") for r in references):
        return _numeric(spec, current, references)
    return _categorical(spec, current, references)


def _threshold(spec: DriftRule) -> str:
    parts = []
    if spec.max_psi is not None:
        parts.append(f"PSI ≤ {spec.max_psi:g}")
    if spec.max_ks is not None:
        parts.append(f"KS ≤ {spec.max_ks:g}")
    parts.append(f"share change ≤ {spec.max_share_change:g} (text)")
    return ", ".join(parts)


def _numeric(
    spec: DriftRule, current: Mapping[str, Any], references: list[Mapping[str, Any]]
) -> Verdict:
    pooled = drift.pool_sketches([(r["sketch"], int(r.get("count") or 0)) for r in references])
    psi = drift.psi(pooled, current["sketch"])
    ks = drift.ks(pooled, current["sketch"])
    bad = []
    if spec.max_psi is not None and psi > spec.max_psi:
        bad.append(f"PSI {psi:.3f} > {spec.max_psi:g}")
    if spec.max_ks is not None and ks > spec.max_ks:
        bad.append(f"KS {ks:.3f} > {spec.max_ks:g}")
    return Verdict(
        passed=not bad,
        failing=0 if not bad else 1,
        observed=psi,
        observed_text=f"PSI {psi:.3f}, KS {ks:.3f} against {len(references)} earlier load(s)",
        threshold=_threshold(spec),
        message=f"{spec.column} drifted: {'; '.join(bad)}" if bad else f"{spec.column} stable",
    )


def _shares(column: Mapping[str, Any]) -> dict[str, float]:
    return {str(t["value"]): float(t["share"]) for t in column.get("top_values") or ()}


def _categorical(
    spec: DriftRule, current: Mapping[str, Any], references: list[Mapping[str, Any]]
) -> Verdict:
    weights = [max(int(r.get("count") or 0), 1) for r in references]
    total = sum(weights)
    pooled: dict[str, float] = {}
    for reference, weight in zip(references, weights, strict=True):
        for value, share in _shares(reference).items():
            pooled[value] = pooled.get(value, 0.0) + share * weight / total
    change, moved = drift.category_shift(pooled, _shares(current))
    passed = change <= spec.max_share_change
    where = f" (on {moved!r})" if moved is not None else ""
    return Verdict(
        passed=passed,
        failing=0 if passed else 1,
        observed=change,
        observed_text=f"largest share change {change:.3f}{where} against "
        f"{len(references)} earlier load(s)",
        threshold=_threshold(spec),
        message=f"{spec.column} drifted{where}" if not passed else f"{spec.column} stable",
    )
