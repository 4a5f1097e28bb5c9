"""Filter conditions: ``and`` / ``or`` / ``not`` trees over column comparisons and SQL."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from sluiceway.spec.models_base import StrictModel
from sluiceway.transform.ops.fields import ScalarValue, SqlExpression

CompareOp = Literal[
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "in",
    "not_in",
    "is_null",
    "not_null",
    "between",
    "like",
    "ilike",
]
_NO_VALUE = frozenset({"is_null", "not_null"})
_LIST_VALUE = frozenset({"in", "not_in"})


class Compare(StrictModel):
    """A leaf condition: ``{column: amount, op: gt, value: 10}``."""

    column: str = Field(description="The column compared.")
    op: CompareOp = Field(description="How: eq, ne, lt, le, gt, ge, in, not_in, is_null, ...")
    value: ScalarValue | list[ScalarValue] | None = Field(
        None,
        description="What with: a scalar; a list for in/not_in; [low, high] for between; "
        "none for is_null/not_null.",
    )

    @model_validator(mode="after")
    def _value_fits(self) -> Compare:
        many = isinstance(self.value, list)
        if self.op in _NO_VALUE:
            if self.value is not None:
                raise ValueError(f"`{self.op}` takes no `value`")
        elif self.op in _LIST_VALUE:
            if not many or not self.value:
                raise ValueError(f"`{self.op}` takes a non-empty list as `value`")
        elif self.op == "between":
            if not isinstance(self.value, list) or len(self.value) != 2:
                raise ValueError("`between` takes `value: [low, high]`")
        elif self.value is None or many:
            raise ValueError(
                f"`{self.op}` takes one value (to test for NULL use `is_null` / `not_null`)"
            )
        return self


class SqlCondition(StrictModel):
    """A leaf condition written in SQL: ``{sql: "amount > 2 * discount"}``."""

    sql: SqlExpression = Field(description="A boolean DuckDB SQL expression.")


class AllOf(StrictModel):
    """``{and: [...]}``: every condition holds."""

    and_: list[Condition] = Field(alias="and", min_length=1, description="The conditions.")


class AnyOf(StrictModel):
    """``{or: [...]}``: at least one condition holds."""

    or_: list[Condition] = Field(alias="or", min_length=1, description="The conditions.")


class Not(StrictModel):
    """``{not: ...}``: the condition does not hold (NULL stays NULL: the row is dropped)."""

    not_: Condition = Field(alias="not", description="The condition negated.")


_CONDITION_KEYS = {"and": "and", "or": "or", "not": "not", "sql": "sql", "column": "compare"}
_CONDITION_CLASSES: dict[type, str] = {}


def condition_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        kinds = {_CONDITION_KEYS[key] for key in value if key in _CONDITION_KEYS}
        return kinds.pop() if len(kinds) == 1 else None
    return _CONDITION_CLASSES.get(type(value))


Condition = Annotated[
    Annotated[AllOf, Tag("and")]
    | Annotated[AnyOf, Tag("or")]
    | Annotated[Not, Tag("not")]
    | Annotated[SqlCondition, Tag("sql")]
    | Annotated[Compare, Tag("compare")],
    Discriminator(
        condition_kind,
        custom_error_type="condition",
        custom_error_message=(
            "a condition is one of {and: [...]}, {or: [...]}, {not: ...}, {sql: '...'} or "
            "{column: ..., op: eq|ne|lt|le|gt|ge|in|not_in|is_null|not_null|between|like|"
            "ilike, value: ...}"
        ),
    ),
]
"""A condition tree: ``and`` / ``or`` / ``not`` over leaves (:class:`Compare`,
:class:`SqlCondition`)."""

_CONDITION_CLASSES.update(
    {AllOf: "and", AnyOf: "or", Not: "not", SqlCondition: "sql", Compare: "compare"}
)
for _model in (AllOf, AnyOf, Not):
    _model.model_rebuild()


def condition_columns(condition: Condition) -> list[str]:
    """The columns a condition's leaves name (not those inside ``sql:``)."""
    if isinstance(condition, Compare):
        return [condition.column]
    if isinstance(condition, Not):
        return condition_columns(condition.not_)
    if isinstance(condition, AllOf | AnyOf):
        items = condition.and_ if isinstance(condition, AllOf) else condition.or_
        return [name for item in items for name in condition_columns(item)]
    return []
