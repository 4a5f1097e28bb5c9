"""Quality rules as written under a source's ``checks:`` and the pipeline's ``quality:``.

checks:
  - {rule: not_null, column: email, on_fail: quarantine}
  - {rule: accepted_values, column: status, values: [paid, shipped]}
  - {rule: range, column: price, min: 0, max: 100000}
  - {rule: format, column: email, format: email}
  - {rule: foreign_key, column: customer_id, references: bronze.customers.customer_id}
  - {rule: unique, columns: [order_id], on_fail: quarantine}
  - {rule: freshness, column: updated_at, max_age: 2d, scope: table}
  - {rule: distribution_drift, column: amount, max_psi: 0.2}

Row rules judge each row (failing rows can be quarantined); table rules judge the load's rows
(``scope: load``, the default) or the whole table after the load (``scope: table``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

import sqlglot
from pydantic import Field, field_validator, model_validator
from sqlglot.errors import ParseError

from sluiceway.core.durations import parse_duration
from sluiceway.spec.models_base import StrictModel

Severity = Literal["info", "warning", "error", "critical"]
OnFail = Literal["warn", "quarantine", "fail"]
Scope = Literal["load", "table"]
FormatName = Literal["email", "url", "phone", "zip_us", "iso_date", "uuid"]
Scalar = str | int | float | bool
Bound = int | float | date | datetime | str


def _sql_condition(text: str) -> str:
    """A SQL boolean expression in DuckDB's dialect, checked for syntax at validation."""
    try:
        sqlglot.parse_one(text, read="duckdb")
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = f" near column {first.get('col')}" if first.get("col") else ""
        raise ValueError(
            f"{text!r} is not valid SQL{where}: {first.get('description', exc)}"
        ) from None
    return text


def _qualified(text: str, parts: int) -> str:
    pieces = text.split(".")
    if len(pieces) not in (parts, parts + 1) or not all(pieces):
        shape = "table.column or schema.table.column" if parts == 2 else "table or schema.table"
        raise ValueError(f"{text!r} is not {shape}")
    return text


class RuleBase(StrictModel):
    """Fields every rule has."""

    id: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$",
        description="A stable name for the rule (results and DLQ rows carry it); derived from "
        "the rule and its columns when unset, e.g. `email_not_null`.",
    )
    severity: Severity = Field("error", description="How bad a failure is: info … critical.")
    on_fail: OnFail = Field(
        "warn",
        description="`warn` records the failure and loads everything; `quarantine` sends the "
        "failing rows to the dead-letter queue and loads the rest; `fail` rolls the load back.",
    )
    description: str | None = Field(None, description="What the rule protects, for people.")

    rule: str = Field(description="The rule's kind, e.g. `not_null`, `unique`.")

    @property
    def kind(self) -> str:
        return self.rule

    def default_id(self) -> str:
        columns = getattr(self, "columns", None) or [getattr(self, "column", None)]
        stem = "_".join(str(c) for c in columns if c) or "table"
        return f"{stem}_{self.kind}"

    @property
    def rule_id(self) -> str:
        return self.id or self.default_id()


class ColumnRule(RuleBase):
    column: str = Field(description="The column the rule checks.")


class NotNullRule(ColumnRule):
    """The column has a value in every row."""

    rule: Literal["not_null"]


class AcceptedValuesRule(ColumnRule):
    """The column's value is one of a list (NULL passes; pair with `not_null`)."""

    rule: Literal["accepted_values"]
    values: list[Scalar] = Field(min_length=1, description="The values allowed.")
    case_sensitive: bool = Field(True, description="Compare text exactly, or ignoring case.")


class RangeRule(ColumnRule):
    """The value lies between `min` and `max` (either may be omitted; NULL passes)."""

    rule: Literal["range"]
    min: Bound | None = Field(None, description="Lower bound (a number, date or timestamp).")
    max: Bound | None = Field(None, description="Upper bound.")
    min_inclusive: bool = Field(True, description="Whether `min` itself is allowed.")
    max_inclusive: bool = Field(True, description="Whether `max` itself is allowed.")

    @model_validator(mode="after")
    def _a_bound(self) -> RangeRule:
        if self.min is None and self.max is None:
            raise ValueError("range needs `min`, `max` or both")
        return self


class RegexRule(ColumnRule):
    """The text matches a regular expression (RE2 syntax, anchored by you; NULL passes)."""

    rule: Literal["regex"]
    pattern: str = Field(description="The regular expression, e.g. `^[A-Z]{3}-[0-9]+$`.")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        import re

        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
        return value


class FormatRule(ColumnRule):
    """The text has a named format: email, url, phone, zip_us, iso_date, uuid (NULL passes)."""

    rule: Literal["format"]
    format: FormatName = Field(description="The format's name.")


class LengthRule(ColumnRule):
    """The text's length (in characters) lies between `min` and `max` (NULL passes)."""

    rule: Literal["length"]
    min: int | None = Field(None, ge=0, description="Shortest allowed length.")
    max: int | None = Field(None, ge=0, description="Longest allowed length.")

    @model_validator(mode="after")
    def _a_bound(self) -> LengthRule:
        if self.min is None and self.max is None:
            raise ValueError("length needs `min`, `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"length `min` ({self.min}) is above `max` ({self.max})")
        return self


class ForeignKeyRule(ColumnRule):
    """Every value exists in another table's column: referential integrity before loading.

    The referenced table's pipeline step runs first (the runner orders steps by these rules).
    """

    rule: Literal["foreign_key"]
    references: str = Field(
        description="The referenced column: `table.column` or `schema.table.column`."
    )

    @field_validator("references")
    @classmethod
    def _shape(cls, value: str) -> str:
        return _qualified(value, 2)

    @property
    def ref_table(self) -> str:
        return self.references.rsplit(".", 1)[0]

    @property
    def ref_column(self) -> str:
        return self.references.rsplit(".", 1)[1]


class Join(StrictModel):
    """Another table an `expression` rule may read."""

    table: str = Field(description="The table, `table` or `schema.table`.")
    alias: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Its name in the SQL.")
    on: str = Field(
        description="How its rows match the checked row; qualify the checked table's columns "
        "with its name, e.g. `p.product_id = bids.product_id`."
    )

    @field_validator("table")
    @classmethod
    def _shape(cls, value: str) -> str:
        return _qualified(value, 1)

    @field_validator("on")
    @classmethod
    def _sql(cls, value: str) -> str:
        return _sql_condition(value)


class ExpressionRule(RuleBase):
    """A SQL boolean expression every row must satisfy (NULL passes, as in a CHECK constraint).

    With `join`, the expression may use the joined table's columns; a row fails when a matching
    row of the joined table makes the expression false.
    """

    rule: Literal["expression"]
    id: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$", description="The rule's name (required)."
    )
    expression: str = Field(description="e.g. `discount <= unit_price * quantity`.")
    join: Join | None = Field(None, description="A table the expression reads.")
    column: str | None = Field(None, description="The column to blame in the DLQ, if any.")

    @field_validator("expression")
    @classmethod
    def _sql(cls, value: str) -> str:
        return _sql_condition(value)


class UniqueRule(RuleBase):
    """No two rows share a key. The failing count is the rows beyond the first of each key;
    `quarantine` keeps the first row (in arrival order) of each key and rejects the others."""

    rule: Literal["unique"]
    columns: list[str] = Field(min_length=1, description="The key: one column or several.")
    scope: Scope = Field("load", description="The load's rows, or the whole table after it.")

    @field_validator("columns", mode="before")
    @classmethod
    def _one(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class RowCountRule(RuleBase):
    """The number of rows lies between `min` and `max`; with `reconcile`, the rows the source
    read must equal the rows loaded plus the rows rejected plus duplicates merged, exactly."""

    rule: Literal["row_count"]
    min: int | None = Field(None, ge=0, description="Fewest rows allowed.")
    max: int | None = Field(None, ge=0, description="Most rows allowed.")
    reconcile: bool = Field(False, description="Check source rows = loaded + rejected + merged.")
    scope: Scope = Field("load", description="The load's rows, or the whole table after it.")

    def default_id(self) -> str:
        return (
            "reconcile"
            if self.reconcile and self.min is None and self.max is None
            else ("row_count")
        )


class FreshnessRule(ColumnRule):
    """The newest value of a timestamp column is at most `max_age` old."""

    rule: Literal["freshness"]
    max_age: timedelta = Field(description="e.g. `6h`, `2d`.")
    scope: Scope = Field("table", description="The load's rows, or the whole table after it.")

    @field_validator("max_age", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value) if isinstance(value, str) else value


class Side(StrictModel):
    """One side of a `consistency` comparison: a value per key."""

    table: str | None = Field(None, description="The table; the checked rows when unset.")
    key: list[str] = Field(min_length=1, description="The columns both sides are matched on.")
    value: str = Field(description="A column or aggregate, e.g. `total_amount`, `sum(amount)`.")
    where: str | None = Field(None, description="Rows to include, e.g. `status = 'captured'`.")

    @field_validator("key", mode="before")
    @classmethod
    def _one(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("value", "where")
    @classmethod
    def _sql(cls, value: str | None) -> str | None:
        return None if value is None else _sql_condition(value)


class ConsistencyRule(RuleBase):
    """Values agree across tables per key, within `tolerance` (e.g. an order's total equals the
    sum of its captured payments). The failing count is the keys that disagree."""

    rule: Literal["consistency"]
    id: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$", description="The rule's name (required)."
    )
    left: Side = Field(description="This side's value per key.")
    right: Side = Field(description="The other side's value per key.")
    tolerance: float = Field(0.0, ge=0, description="Largest absolute difference allowed.")
    missing: Literal["ignore", "fail"] = Field(
        "ignore", description="A key on one side only: ignored, or counted as a failure."
    )
    scope: Scope = Field("load", description="The load's rows, or the whole table after it.")


class CompletenessRule(ColumnRule):
    """The share of NULLs in the column is at most `max_null_share`."""

    rule: Literal["completeness"]
    max_null_share: float = Field(ge=0, le=1, description="e.g. 0.01 for at most 1% NULLs.")
    scope: Scope = Field("load", description="The load's rows, or the whole table after it.")


class DriftRule(ColumnRule):
    """The column's distribution has not drifted from the previous loads: PSI and KS for
    numbers, the largest change in a value's share for text."""

    rule: Literal["distribution_drift"]
    window: int = Field(5, ge=1, le=100, description="How many previous loads to compare to.")
    max_psi: float | None = Field(0.2, ge=0, description="Population stability index limit.")
    max_ks: float | None = Field(None, ge=0, le=1, description="Kolmogorov-Smirnov limit.")
    max_share_change: float = Field(
        0.1, ge=0, le=1, description="For text: largest change of one value's share."
    )


class OutliersRule(ColumnRule):
    """Values far from the rest: `zscore` (|x - mean| / stddev above `threshold`, default 3)
    or `iqr` (outside [Q1 - k*IQR, Q3 + k*IQR], k = `threshold`, default 1.5)."""

    rule: Literal["outliers"]
    method: Literal["zscore", "iqr"] = Field("zscore", description="How outliers are found.")
    threshold: float | None = Field(None, gt=0, description="z limit, or the IQR multiplier.")
    max_share: float = Field(
        0.0, ge=0, le=1, description="Share of outlier rows tolerated before the rule fails."
    )

    @property
    def limit(self) -> float:
        if self.threshold is not None:
            return self.threshold
        return 3.0 if self.method == "zscore" else 1.5


RuleSpec = Annotated[
    NotNullRule
    | AcceptedValuesRule
    | RangeRule
    | RegexRule
    | FormatRule
    | LengthRule
    | ForeignKeyRule
    | ExpressionRule
    | UniqueRule
    | RowCountRule
    | FreshnessRule
    | ConsistencyRule
    | CompletenessRule
    | DriftRule
    | OutliersRule,
    Field(discriminator="rule"),
]

ROW_RULES = frozenset(
    {"not_null", "accepted_values", "range", "regex", "format", "length", "foreign_key",
     "expression"}
)  # fmt: skip
QUARANTINABLE = ROW_RULES | {"unique", "outliers"}


def check_rules(rules: list[Any]) -> list[Any]:
    """Rule ids are unique; only rules that can name failing rows may quarantine."""
    seen: set[str] = set()
    for rule in rules:
        if rule.rule_id in seen:
            raise ValueError(f"two checks are named {rule.rule_id!r}; give one an `id:`")
        seen.add(rule.rule_id)
        if rule.on_fail == "quarantine" and rule.kind not in QUARANTINABLE:
            raise ValueError(
                f"check {rule.rule_id!r} ({rule.kind}) cannot quarantine rows: it judges the "
                "table, not a row; use `on_fail: warn` or `fail`"
            )
        if rule.on_fail == "quarantine" and getattr(rule, "scope", "load") == "table":
            raise ValueError(
                f"check {rule.rule_id!r} has `scope: table` and cannot quarantine: rows "
                "already in the table are not the load's to reject"
            )
    return rules


DIMENSIONS = ("completeness", "validity", "uniqueness", "consistency", "timeliness", "accuracy")


class QualitySettings(StrictModel):
    """Pipeline-wide quality settings (`quality:`)."""

    profile: bool = Field(
        True,
        description="Profile every load's rows and keep the profile (per column: nulls, "
        "distinct values, extremes, quantiles, top values, histogram, lengths, patterns). "
        "`false` skips the profiling queries.",
    )
    weights: dict[str, float] = Field(
        default_factory=lambda: {
            "completeness": 1.0,
            "validity": 1.0,
            "uniqueness": 1.0,
            "consistency": 1.0,
            "timeliness": 1.0,
            "accuracy": 1.0,
        },
        description="Weight of each dimension in the 0-100 quality score: completeness, "
        "validity, uniqueness, consistency, timeliness, accuracy.",
    )

    @field_validator("weights")
    @classmethod
    def _known(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(DIMENSIONS))
        if unknown:
            raise ValueError(
                f"unknown quality dimension(s) {', '.join(unknown)}; use {', '.join(DIMENSIONS)}"
            )
        if any(w < 0 for w in value.values()) or not any(w > 0 for w in value.values()):
            raise ValueError("weights must be ≥ 0 and at least one above 0")
        return {d: float(value.get(d, 0.0)) for d in DIMENSIONS}
