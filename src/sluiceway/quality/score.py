"""The 0-100 quality score of a load: weighted dimensions, each from its rules.

Each rule scores 0-100 in its dimension (``sluiceway.quality.rules.DIMENSION``): a row rule by
the share of rows that pass, ``unique`` by the share of keyed rows that are not extra copies,
``completeness`` by the share of non-NULL values, any other table rule 100 or 0. A dimension is
the mean of its rules; completeness falls back to the profile's non-NULL share when no rule
covers it. Dimensions with nothing to judge are left out and the weights of the others are
renormalised, so a table with only validity rules is not rewarded or punished for the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sluiceway.quality.results import RuleResult
from sluiceway.spec.quality import DIMENSIONS, ROW_RULES

# Rules whose failing count is a number of rows out of ``checked``: they score by share.
_SHARE_RULES = ROW_RULES | {"unique", "completeness", "outliers"}


@dataclass(frozen=True)
class Score:
    score: float | None  # None: nothing to judge
    dimensions: dict[str, float]
    weights: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "dimensions": self.dimensions, "weights": self.weights}


def rule_score(result: RuleResult) -> float:
    if result.rule in _SHARE_RULES:
        if result.checked <= 0:
            return 100.0
        return max(0.0, 100.0 * (1 - result.failing / result.checked))
    return 100.0 if result.passed else 0.0


def score(
    results: Sequence[RuleResult],
    weights: Mapping[str, float],
    profile: Mapping[str, Any] | None = None,
) -> Score:
    by_dimension: dict[str, list[float]] = {}
    for result in results:
        by_dimension.setdefault(result.dimension, []).append(rule_score(result))
    dimensions = {d: sum(v) / len(v) for d, v in by_dimension.items() if v}
    if "completeness" not in dimensions and profile is not None:
        columns = [c for c in profile.get("columns", ()) if profile.get("rows")]
        if columns:
            filled = [1 - float(c.get("null_share") or 0.0) for c in columns]
            dimensions["completeness"] = 100.0 * sum(filled) / len(filled)
    present = {d: float(weights.get(d, 0.0)) for d in dimensions if weights.get(d, 0.0) > 0}
    total = sum(present.values())
    value = sum(dimensions[d] * w for d, w in present.items()) / total if total else None
    ordered = {d: round(dimensions[d], 2) for d in DIMENSIONS if d in dimensions}
    return Score(
        score=round(value, 2) if value is not None else None,
        dimensions=ordered,
        weights={d: float(weights.get(d, 0.0)) for d in DIMENSIONS},
    )
