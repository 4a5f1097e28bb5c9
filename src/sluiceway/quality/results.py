"""What a rule found: one :class:`RuleResult` per rule and load, stored with the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RuleResult:
    rule_id: str
    rule: str  # the kind: not_null, unique, ...
    columns: tuple[str, ...]
    dimension: str  # completeness, validity, uniqueness, consistency, timeliness, accuracy
    severity: str
    on_fail: str
    scope: str  # load | table
    passed: bool
    failing: int  # failing rows (row rules), extra rows (unique), disagreeing keys (consistency)
    checked: int  # rows (or keys) the rule looked at
    observed: float | None
    observed_text: str
    threshold: str
    message: str
    sample: list[dict[str, Any]] = field(default_factory=list)
    quarantined: int = 0  # rows this rule sent to the dead-letter queue

    @property
    def failed(self) -> bool:
        return not self.passed

    @property
    def blocks_load(self) -> bool:
        """A failed ``on_fail: fail`` rule rolls the load back."""
        return self.on_fail == "fail" and not self.passed

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "rule": self.rule,
            "columns": list(self.columns),
            "dimension": self.dimension,
            "severity": self.severity,
            "on_fail": self.on_fail,
            "scope": self.scope,
            "passed": self.passed,
            "failing": self.failing,
            "checked": self.checked,
            "observed": self.observed,
            "observed_text": self.observed_text,
            "threshold": self.threshold,
            "message": self.message,
            "sample": self.sample,
            "quarantined": self.quarantined,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RuleResult:
        return cls(
            rule_id=data["rule_id"],
            rule=data["rule"],
            columns=tuple(data.get("columns", ())),
            dimension=data["dimension"],
            severity=data["severity"],
            on_fail=data["on_fail"],
            scope=data.get("scope", "load"),
            passed=bool(data["passed"]),
            failing=int(data["failing"]),
            checked=int(data["checked"]),
            observed=data.get("observed"),
            observed_text=data.get("observed_text", ""),
            threshold=data.get("threshold", ""),
            message=data.get("message", ""),
            sample=list(data.get("sample", [])),
            quarantined=int(data.get("quarantined", 0)),
        )
