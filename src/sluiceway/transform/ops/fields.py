"""Field types the operation models share: column names, DuckDB types, SQL snippets, orderings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from sluiceway.spec.models_base import StrictModel
from sluiceway.transform.ops.expressions import datatype, parse_expression

Day = date  # for models with a field called `date`

ScalarValue = bool | int | float | datetime | date | str
"""A YAML scalar (unquoted dates are dates, ``2024-01-01 10:00:00`` a timestamp)."""


def _as_list(value: Any) -> Any:
    """A single name where a list is expected: ``key: id`` is ``key: [id]``."""
    return [value] if isinstance(value, str) else value


def distinct(names: list[str]) -> list[str]:
    seen: set[str] = set()
    for name in names:
        if not name:
            raise ValueError("a column name is empty")
        if name in seen:
            raise ValueError(f"the column {name!r} is named twice")
        seen.add(name)
    return names


Names = Annotated[list[str], BeforeValidator(_as_list), AfterValidator(distinct)]
"""Column names: a list, or one name."""


def _type_name(value: str) -> str:
    datatype(value)
    return value


TypeName = Annotated[str, AfterValidator(_type_name)]
"""A DuckDB type: ``INTEGER``, ``DECIMAL(10, 2)``, ``TIMESTAMP``, ``VARCHAR[]``."""


def _sql_expression(value: str) -> str:
    parse_expression(value)
    return value


SqlExpression = Annotated[str, AfterValidator(_sql_expression)]
"""One SQL expression in DuckDB's dialect, reading the columns of the operation's input."""


class OrderBy(StrictModel):
    """One ordering term: a column, its direction, where NULLs go."""

    column: str = Field(description="The column to order by.")
    desc: bool = Field(False, description="Descending order.")
    nulls: Literal["first", "last"] | None = Field(
        None, description="Where NULLs go; default last (DuckDB's default, both directions)."
    )


def _order_from_text(value: Any) -> Any:
    """``"ts"``, ``"ts desc"``, ``"ts asc"`` → an :class:`OrderBy` mapping."""
    if not isinstance(value, str):
        return value
    name, _, direction = value.rstrip().rpartition(" ")
    if name and direction.lower() in {"asc", "desc"}:
        return {"column": name.rstrip(), "desc": direction.lower() == "desc"}
    return {"column": value}


Ordering = Annotated[OrderBy, BeforeValidator(_order_from_text)]
"""An ordering term: ``ts``, ``ts desc`` or ``{column: ts, desc: true, nulls: first}``."""

Orderings = Annotated[list[Ordering], BeforeValidator(_as_list)]


def names_of(items: Sequence[OrderBy]) -> list[str]:
    return [item.column for item in items]
