"""The built-in operations as written under a model's ``ops:``, one pydantic model each.

ops:
  - {op: filter, where: {and: [{column: status, op: eq, value: paid}, {sql: "amount > 0"}]}}
  - {op: derive, columns: {amount_eur: "amount * 0.92"}}
  - {op: aggregate, group_by: [region], measures: {revenue: {fn: sum, column: amount_eur}}}

Each entry is a mapping whose ``op`` names the operation; the other keys are its options (see
``docs/operations.md``). Column names are taken as written (quoted in the SQL); SQL snippets
(``derive``, ``{sql: ...}`` conditions) are DuckDB's dialect and are parsed when the spec is
validated, so a typo fails there rather than in the warehouse.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from sluiceway.spec.models_base import StrictModel
from sluiceway.transform.ops.conditions import (
    AllOf,
    AnyOf,
    Compare,
    CompareOp,
    Condition,
    Not,
    SqlCondition,
    condition_columns,
    condition_kind,
)
from sluiceway.transform.ops.errors import OpsError
from sluiceway.transform.ops.fields import (
    Day,
    Names,
    OrderBy,
    Orderings,
    ScalarValue,
    SqlExpression,
    TypeName,
    distinct,
    names_of,
)

__all__ = [
    "AllOf",
    "AnyOf",
    "Compare",
    "CompareOp",
    "Condition",
    "Not",
    "OrderBy",
    "ScalarValue",
    "SqlCondition",
]


class Operation(StrictModel):
    """The base of every operation model: its ``op`` name, and the input columns it names."""

    op: str = Field(description="The operation's name.")

    def columns_read(self) -> list[str]:
        """The input columns the operation names (checked against the input when known)."""
        return []


# -- columns --------------------------------------------------------------------------------


class SelectOp(Operation):
    """Keep the listed columns, in that order, or every column but the ``except`` ones."""

    op: Literal["select"] = "select"
    columns: Names | None = Field(None, description="The columns to keep, in order.")
    except_: Names | None = Field(
        None, alias="except", description="The columns to drop (needs the input's columns)."
    )

    @model_validator(mode="after")
    def _one_of(self) -> SelectOp:
        if (self.columns is None) == (self.except_ is None):
            raise ValueError("give exactly one of `columns` (to keep) or `except` (to drop)")
        return self

    def columns_read(self) -> list[str]:
        return [*(self.columns or ()), *(self.except_ or ())]


def _distinct_targets(mapping: dict[str, str]) -> dict[str, str]:
    distinct(list(mapping.values()))
    return mapping


class RenameOp(Operation):
    """Rename columns, keeping the others and the order (needs the input's columns)."""

    op: Literal["rename"] = "rename"
    columns: Annotated[dict[str, str], AfterValidator(_distinct_targets)] = Field(
        min_length=1, description="Old name to new name."
    )

    def columns_read(self) -> list[str]:
        return list(self.columns)


class CastOp(Operation):
    """Change columns' types in place (needs the input's columns).

    ``safe: true`` gives NULL for text that does not look like the type instead of failing;
    see ``docs/operations.md`` for what "looks like" means on PostgreSQL, which has no
    ``TRY_CAST``."""

    op: Literal["cast"] = "cast"
    columns: dict[str, TypeName] = Field(min_length=1, description="Column to DuckDB type.")
    safe: bool = Field(
        False, description="NULL instead of an error for values that cannot be cast."
    )

    def columns_read(self) -> list[str]:
        return list(self.columns)


class DeriveOp(Operation):
    """Add (or replace) columns computed by SQL expressions over the input's columns.

    The expressions of one ``derive`` all read the input; chain another ``derive`` to use a
    column derived here."""

    op: Literal["derive"] = "derive"
    columns: dict[str, SqlExpression] = Field(
        min_length=1, description="New column name to a DuckDB SQL expression."
    )


_PATH_STEP = re.compile(r'\.(?:"((?:[^"]|"")*)"|([A-Za-z_][A-Za-z0-9_$]*))|\[(\d+)\]')


def json_path_parts(path: str) -> tuple[str | int, ...]:
    """``$.a.b[0]`` (or ``a.b[0]``) → ``("a", "b", 0)``; keys with other characters are
    double-quoted (``$."order id"``)."""
    text = path.strip()
    text = text[1:] if text.startswith("$") else "." + text
    parts: list[str | int] = []
    position = 0
    while position < len(text):
        found = _PATH_STEP.match(text, position)
        if found is None:
            raise ValueError(
                f"cannot read the JSON path {path!r} at {text[position:]!r}: write "
                '`a.b[0].c` or `$.a."key with spaces"`'
            )
        quoted, name, index = found.groups()
        parts.append(int(index) if index is not None else (name or quoted.replace('""', '"')))
        position = found.end()
    if not parts:
        raise ValueError(f"the JSON path {path!r} names no field")
    return tuple(parts)


def _json_path(value: str) -> str:
    json_path_parts(value)
    return value


class JsonField(StrictModel):
    """One value taken out of a JSON document."""

    path: Annotated[str, AfterValidator(_json_path)] = Field(
        description="Where the value is: `a.b[0].c` or `$.a.b[0].c`."
    )
    type: TypeName = Field("VARCHAR", description="The DuckDB type the value is cast to.")


def _json_field(value: Any) -> Any:
    return {"path": value} if isinstance(value, str) else value


class FlattenOp(Operation):
    """Spread a STRUCT column into ``parent_child`` columns (nested structs too), or pull
    typed values out of a JSON column (``paths``). The flattened column is dropped unless
    ``keep``. Needs the input's columns (a struct's fields come from its type)."""

    op: Literal["flatten"] = "flatten"
    column: str = Field(description="The STRUCT or JSON column.")
    paths: dict[str, Annotated[JsonField, BeforeValidator(_json_field)]] | None = Field(
        None,
        description="For a JSON column: output name to `{path, type}` (or just the path, "
        "giving VARCHAR). Without it the column is flattened as a STRUCT.",
    )
    separator: str = Field("_", description="Between parent and field names (struct).")
    prefix: str | None = Field(
        None, description="Before the field names (struct); default the column name and separator."
    )
    recursive: bool = Field(True, description="Flatten structs inside the struct as well.")
    keep: bool = Field(False, description="Keep the flattened column too.")

    def columns_read(self) -> list[str]:
        return [self.column]


class FilterOp(Operation):
    """Keep the rows where ``where`` holds (a NULL result drops the row, as in SQL)."""

    op: Literal["filter"] = "filter"
    where: Condition = Field(description="The condition tree.")

    def columns_read(self) -> list[str]:
        return condition_columns(self.where)


# -- join -----------------------------------------------------------------------------------


class JoinOp(Operation):
    """Join another table; its columns come in under a prefix so names cannot clash."""

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, data: Any) -> Any:
        """YAML 1.1 (PyYAML) reads an unquoted ``on:`` key as ``true``: take it for ``on``."""
        if isinstance(data, dict) and True in data and "on" not in data:
            data = {("on" if key is True else key): value for key, value in data.items()}
        return data

    op: Literal["join"] = "join"
    table: str = Field(description="The table joined (`name` or `schema.name`).")
    how: Literal["inner", "left", "right", "full"] = Field("inner", description="The join kind.")
    on: dict[str, str] | None = Field(
        None, description="Input column to the joined table's column, compared for equality."
    )
    using: Names | None = Field(
        None,
        description="Columns of the same name on both sides; one output column each "
        "(coalesced for right and full joins).",
    )
    select: Names | dict[str, str] = Field(
        default_factory=list,
        description="The joined table's columns to add: a list (named prefix + column) or "
        "column to output name.",
    )
    prefix: str | None = Field(
        None, description="Before the added columns' names; default the table's name and `_`."
    )

    @model_validator(mode="after")
    def _one_of(self) -> JoinOp:
        if (self.on is None) == (self.using is None):
            raise ValueError("give exactly one of `on` ({input_column: table_column}) or `using`")
        if self.on is not None and not self.on:
            raise ValueError("`on` names no columns")
        return self

    def columns_read(self) -> list[str]:
        return list(self.on or {}) or list(self.using or ())


# -- aggregate ------------------------------------------------------------------------------

AggregateFn = Literal[
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "count_distinct",
    "median",
    "stddev",
    "percentile",
    "percentile_disc",
]


def check_measure(fn: str, column: str | None, q: float | None) -> None:
    """An aggregate's arguments fit it: a column unless counting rows, ``q`` for percentiles."""
    if column is None and fn != "count":
        raise ValueError(f"`{fn}` needs a `column`")
    percentile = fn in {"percentile", "percentile_disc"}
    if percentile and q is None:
        raise ValueError(f"`{fn}` needs `q`, the fraction (0.9 for the 90th percentile)")
    if not percentile and q is not None:
        raise ValueError(f"`q` is for percentile and percentile_disc, not `{fn}`")


class Measure(StrictModel):
    """One aggregate: ``{fn: sum, column: amount}``, ``{fn: percentile, column: x, q: 0.9}``."""

    fn: AggregateFn = Field(description="The aggregate function.")
    column: str | None = Field(None, description="The column aggregated (none for count(*)).")
    q: float | None = Field(
        None, ge=0, le=1, description="The fraction for percentile / percentile_disc."
    )

    @model_validator(mode="after")
    def _arguments(self) -> Measure:
        check_measure(self.fn, self.column, self.q)
        return self


class AggregateOp(Operation):
    """One row per group (or one row in all, without ``group_by``)."""

    op: Literal["aggregate"] = "aggregate"
    group_by: Names = Field(default_factory=list, description="The grouping columns.")
    measures: dict[str, Measure] = Field(min_length=1, description="Output name to aggregate.")

    @model_validator(mode="after")
    def _names(self) -> AggregateOp:
        if clash := set(self.group_by) & set(self.measures):
            raise ValueError(f"a measure is named like a group_by column: {sorted(clash)}")
        return self

    def columns_read(self) -> list[str]:
        return [*self.group_by, *(m.column for m in self.measures.values() if m.column)]


# -- windows --------------------------------------------------------------------------------

WindowFn = Literal[
    "row_number", "rank", "dense_rank", "ntile", "lag", "lead", "running_sum", "moving_avg"
]
_RANKS = frozenset({"row_number", "rank", "dense_rank", "ntile"})


class WindowColumn(StrictModel):
    """One window column: ``{fn: lag, column: amount, offset: 1}``."""

    fn: WindowFn = Field(description="The window function.")
    column: str | None = Field(None, description="The column it reads (not for the ranks).")
    offset: int | None = Field(None, ge=1, description="How many rows back / ahead (lag, lead).")
    default: ScalarValue | None = Field(
        None, description="The value when there is no such row (lag, lead)."
    )
    rows: int | None = Field(None, ge=1, description="The rows averaged (moving_avg).")
    buckets: int | None = Field(None, ge=1, description="The number of buckets (ntile).")

    @model_validator(mode="after")
    def _arguments(self) -> WindowColumn:
        if (self.fn in _RANKS) != (self.column is None):
            need = "takes no `column`" if self.fn in _RANKS else "needs a `column`"
            raise ValueError(f"`{self.fn}` {need}")
        lagging = self.fn in {"lag", "lead"}
        if not lagging and (self.offset is not None or self.default is not None):
            raise ValueError("`offset` and `default` are for lag and lead")
        if (self.fn == "moving_avg") != (self.rows is not None):
            raise ValueError("`moving_avg` needs `rows` (the window's length); only it takes one")
        if (self.fn == "ntile") != (self.buckets is not None):
            raise ValueError("`ntile` needs `buckets`; only it takes one")
        return self


class WindowOp(Operation):
    """Add window columns: ranks, lag/lead, running sums, moving averages."""

    op: Literal["window"] = "window"
    partition_by: Names = Field(default_factory=list, description="The partitioning columns.")
    order_by: Orderings = Field(default_factory=list, description="The order within a partition.")
    columns: dict[str, WindowColumn] = Field(min_length=1, description="Output name to function.")

    @model_validator(mode="after")
    def _ordered(self) -> WindowOp:
        needs_order = [
            name for name, c in self.columns.items() if c.fn not in {"rank", "dense_rank"}
        ]
        if needs_order and not self.order_by:
            raise ValueError(
                f"{needs_order[0]!r} depends on the rows' order: give `order_by`, or the "
                "engines may number the rows differently"
            )
        return self

    def columns_read(self) -> list[str]:
        read = [c.column for c in self.columns.values() if c.column]
        return [*self.partition_by, *names_of(self.order_by), *read]


class DedupeOp(Operation):
    """One row per key: the first (or last) by ``order_by``. Rows whose ordering value is NULL
    lose to rows that have one. Without ``order_by`` any row of the key may be kept."""

    op: Literal["dedupe"] = "dedupe"
    key: Names = Field(min_length=1, description="The columns that identify a row.")
    order_by: Orderings = Field(default_factory=list, description="How versions are ordered.")
    keep: Literal["first", "last"] = Field("first", description="The first or the last version.")

    @model_validator(mode="after")
    def _ordered(self) -> DedupeOp:
        if self.keep == "last" and not self.order_by:
            raise ValueError("`keep: last` needs `order_by` (the last by what?)")
        return self

    def columns_read(self) -> list[str]:
        return [*self.key, *names_of(self.order_by)]


# -- reshape --------------------------------------------------------------------------------


class PivotOp(Operation):
    """Rows to columns: one row per ``index``, one column per listed category of ``column``.

    The categories are listed so the SQL (and the output's columns) are known in advance."""

    op: Literal["pivot"] = "pivot"
    index: Names = Field(default_factory=list, description="The columns that stay rows.")
    column: str = Field(description="The column whose values become columns.")
    values: str | None = Field(None, description="The column aggregated (none with `count`).")
    agg: AggregateFn = Field("sum", description="How the values of a cell are aggregated.")
    q: float | None = Field(None, ge=0, le=1, description="The fraction for a percentile agg.")
    categories: list[bool | int | float | date | str] = Field(
        min_length=1, description="The values of `column` that become columns, in order."
    )
    prefix: str = Field("", description="Before each category's column name.")

    @model_validator(mode="after")
    def _measure(self) -> PivotOp:
        check_measure(self.agg, self.values, self.q)
        names = [self.column_name(c) for c in self.categories]
        distinct(names)
        if clash := set(names) & set(self.index):
            raise ValueError(f"a category's column would be named like an index column: {clash}")
        return self

    def column_name(self, category: bool | int | float | date | str) -> str:
        text = str(category).lower() if isinstance(category, bool) else str(category)
        return f"{self.prefix}{text}"

    def columns_read(self) -> list[str]:
        return [*self.index, self.column, *([self.values] if self.values else [])]


class UnpivotOp(Operation):
    """Columns to rows: each of ``columns`` becomes a (name, value) row beside ``index``."""

    op: Literal["unpivot"] = "unpivot"
    columns: Names | None = Field(
        None, description="The columns turned into rows; default every column not in `index`."
    )
    index: Names | None = Field(
        None, description="The columns kept on every row; default every column not unpivoted."
    )
    name: str = Field("name", description="The output column holding the column's name.")
    value: str = Field("value", description="The output column holding its value.")
    value_type: TypeName | None = Field(
        None, description="Cast every value to this type (needed when the types differ)."
    )
    include_nulls: bool = Field(False, description="Keep rows whose value is NULL.")

    @model_validator(mode="after")
    def _something(self) -> UnpivotOp:
        if self.columns is None and self.index is None:
            raise ValueError("give `columns` (to unpivot) or `index` (to keep), or both")
        if self.name == self.value:
            raise ValueError("`name` and `value` must differ")
        return self

    def columns_read(self) -> list[str]:
        return [*(self.columns or ()), *(self.index or ())]


# -- time series ----------------------------------------------------------------------------

_UNITS = {
    "second": "second",
    "minute": "minute",
    "hour": "hour",
    "day": "day",
    "week": "week",
    "month": "month",
    "quarter": "quarter",
    "year": "year",
}
CALENDAR_UNITS = frozenset({"month", "quarter", "year"})
_EVERY = re.compile(r"^\s*(\d+)?\s*([a-z]+?)s?\s*$")


def parse_every(text: str) -> tuple[int, str]:
    """``"15 minutes"`` → ``(15, "minute")``; ``"day"`` → ``(1, "day")``."""
    found = _EVERY.match(text.lower())
    unit = _UNITS.get(found.group(2), "") if found else ""
    if found is None or not unit:
        raise ValueError(
            f"{text!r} is not an interval: write a count and a unit, `1 day`, `15 minutes` "
            f"(units: {', '.join(_UNITS)})"
        )
    count = int(found.group(1) or 1)
    if count < 1:
        raise ValueError(f"{text!r}: the count must be at least 1")
    if unit in CALENDAR_UNITS and count != 1:
        raise ValueError(
            f"{text!r}: months, quarters and years resample one at a time (`1 {unit}`); "
            "PostgreSQL cannot bin several calendar units"
        )
    return count, unit


def _every(value: str) -> str:
    count, unit = parse_every(value)
    return f"{count} {unit}"


class ResampleOp(Operation):
    """Aggregate into regular time buckets, with a row for every bucket between the first and
    the last (per ``group_by`` key): gaps are filled from a generated time spine."""

    op: Literal["resample"] = "resample"
    time: str = Field(description="The DATE or TIMESTAMP column bucketed; the output's bucket.")
    every: Annotated[str, AfterValidator(_every)] = Field(
        description="The bucket width: `1 day`, `15 minutes`, `1 hour`, `1 week`, `1 month`."
    )
    group_by: Names = Field(default_factory=list, description="Resample each key separately.")
    measures: dict[str, Measure] = Field(min_length=1, description="Output name to aggregate.")
    fill: Literal["none", "zero", "forward"] = Field(
        "none",
        description="Buckets without rows: NULL measures (`none`), 0 (`zero`), or the last "
        "non-NULL value before (`forward`).",
    )
    start: datetime | date | None = Field(
        None, description="The first bucket (default: the data's)."
    )
    end: datetime | date | None = Field(None, description="The last bucket (default: the data's).")

    @property
    def interval(self) -> tuple[int, str]:
        return parse_every(self.every)

    @model_validator(mode="after")
    def _names(self) -> ResampleOp:
        taken = {self.time, *self.group_by} & set(self.measures)
        if taken:
            raise ValueError(f"a measure is named like the time or a key column: {taken}")
        return self

    def columns_read(self) -> list[str]:
        read = [m.column for m in self.measures.values() if m.column]
        return [self.time, *self.group_by, *read]


# -- features -------------------------------------------------------------------------------


class AgeOp(Operation):
    """Whole years from a date (a birth date) to ``as_of`` (default today)."""

    op: Literal["age"] = "age"
    column: str = Field(description="The DATE or TIMESTAMP column.")
    as_of: date | None = Field(None, description="The reference date; default current_date.")
    name: str = Field("age", description="The output column.")

    def columns_read(self) -> list[str]:
        return [self.column]


class DaysSinceOp(Operation):
    """Days from a date to ``as_of`` (default today); negative for dates after it."""

    op: Literal["days_since"] = "days_since"
    column: str = Field(description="The DATE or TIMESTAMP column.")
    as_of: date | None = Field(None, description="The reference date; default current_date.")
    name: str | None = Field(None, description="The output column; default days_since_<column>.")

    @property
    def output(self) -> str:
        return self.name or f"days_since_{self.column}"

    def columns_read(self) -> list[str]:
        return [self.column]


class RfmOp(Operation):
    """Recency, frequency and monetary value per customer, each scored 1..``bins`` (higher is
    better) and joined into a segment (``"545"``). One row per customer."""

    op: Literal["rfm"] = "rfm"
    customer: str = Field(description="The customer key column.")
    date: str = Field(description="The order date column.")
    amount: str = Field(description="The order amount column.")
    as_of: datetime | Day | None = Field(
        None, description="The day recency is measured to; default current_date."
    )
    bins: int = Field(5, ge=2, le=9, description="The number of score levels.")

    def columns_read(self) -> list[str]:
        return [self.customer, self.date, self.amount]


class BinOp(Operation):
    """Put a numeric column's values into bins: by ``edges`` or ``count`` equal-width bins.

    Bins hold ``[low, high)`` (``closed: right``: ``(low, high]``); with ``count`` the data's
    maximum goes in the last bin. Values outside every bin (or NULL) get NULL. The output is
    the bin's number from 1, or its label."""

    op: Literal["bin"] = "bin"
    column: str = Field(description="The numeric column.")
    edges: list[float] | None = Field(
        None, description="Increasing bin edges; `.inf` / `-.inf` leave an end open."
    )
    count: int | None = Field(
        None, ge=1, description="Equal-width bins from the data's min to max."
    )
    labels: list[str] | None = Field(None, description="One label per bin (else bin numbers).")
    closed: Literal["left", "right"] = Field("left", description="Which edge a bin includes.")
    name: str | None = Field(None, description="The output column; default <column>_bin.")

    @property
    def output(self) -> str:
        return self.name or f"{self.column}_bin"

    @property
    def bin_count(self) -> int:
        return self.count if self.count is not None else len(self.edges or ()) - 1

    @model_validator(mode="after")
    def _bins(self) -> BinOp:
        if (self.edges is None) == (self.count is None):
            raise ValueError("give exactly one of `edges` or `count`")
        if self.edges is not None:
            if len(self.edges) < 2:
                raise ValueError("`edges` needs at least two values (one bin)")
            if any(b <= a for a, b in itertools.pairwise(self.edges)):
                raise ValueError(f"`edges` must increase: {self.edges}")
        if self.labels is not None and len(self.labels) != self.bin_count:
            raise ValueError(
                f"{len(self.labels)} labels for {self.bin_count} bins: give one label per bin"
            )
        return self

    def columns_read(self) -> list[str]:
        return [self.column]


# -- the union ------------------------------------------------------------------------------

OpSpec = Annotated[
    SelectOp
    | RenameOp
    | CastOp
    | DeriveOp
    | FlattenOp
    | FilterOp
    | JoinOp
    | AggregateOp
    | WindowOp
    | PivotOp
    | UnpivotOp
    | DedupeOp
    | ResampleOp
    | AgeOp
    | DaysSinceOp
    | RfmOp
    | BinOp,
    Field(discriminator="op"),
]
"""One operation; its ``op`` field picks the model."""

OPS: tuple[type[Operation], ...] = (
    SelectOp,
    RenameOp,
    CastOp,
    DeriveOp,
    FlattenOp,
    FilterOp,
    JoinOp,
    AggregateOp,
    WindowOp,
    PivotOp,
    UnpivotOp,
    DedupeOp,
    ResampleOp,
    AgeOp,
    DaysSinceOp,
    RfmOp,
    BinOp,
)
"""Every operation model, in the order the docs list them."""


@functools.cache
def _op_list() -> TypeAdapter[list[OpSpec]]:
    return TypeAdapter(list[OpSpec])


def parse_ops(data: Any) -> list[OpSpec]:
    """A list of operations as written in YAML (mappings with an ``op`` key), validated; an
    :class:`OpsError` lists every problem with where it is (``ops[1].where.and[0].value``).

    >>> [op.op for op in parse_ops([{"op": "select", "columns": ["id"]}])]
    ['select']
    """
    try:
        return _op_list().validate_python(data)
    except ValidationError as exc:
        issues = [
            f"  ops{_location(error['loc'], data)}: {_message(error)}"
            for error in exc.errors(include_url=False)
        ]
        raise OpsError("invalid operations:\n" + "\n".join(issues)) from exc


def _message(error: ErrorDetails) -> str:
    if error["type"] == "union_tag_invalid" and error["ctx"].get("discriminator") == "'op'":
        tag = str(error["ctx"].get("tag"))
        names = [model.model_fields["op"].default for model in OPS]
        close = difflib.get_close_matches(tag, names, n=1)
        guess = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown operation {tag!r}{guess}; the operations: {', '.join(names)}"
    return error["msg"].removeprefix("Value error, ")


def _location(loc: tuple[int | str, ...], data: Any) -> str:
    """pydantic's error location as written in the YAML: without the union tags pydantic adds
    before a tagged model's fields (``[0].filter.where.and.and[1]`` is ``[0].where.and[1]``)."""
    where, current, tagged = "", data, False
    for part in loc:
        tag = isinstance(current, dict) and part in {current.get("op"), condition_kind(current)}
        if tag and not tagged:
            tagged = True
            continue
        tagged = False
        if isinstance(current, list) and isinstance(part, int) and part < len(current):
            where, current = f"{where}[{part}]", current[part]
        elif isinstance(current, dict) and part in current:
            where, current = f"{where}.{part}", current[part]
        else:
            where, current = f"{where}.{part}", None
    return where
