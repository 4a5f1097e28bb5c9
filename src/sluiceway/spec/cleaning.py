"""Cleaning operations as written under a source's ``clean:``, and the ``dedupe:`` policy.

clean:
  "*": [null_tokens]                  # every text column, before the column's own operations
  email: [email]                      # trim + lower case
  first_name: [trim, collapse_whitespace, {case: title}]
  state: [trim, us_state]             # "Calif.", "california", " CA " -> "CA"
  phone: [{phone: {country: US}}]     # E.164, "+15551234567"
  is_active: [boolean]                # Y/N, yes/no, true/false, 1/0, t/f -> BOOLEAN
  signup: [{date: {formats: ["%Y-%m-%d", "%m/%d/%Y"]}}]
  name: [{null_tokens: ["?", "unknown"]}, {replace: {pattern: "\\s+", with: " "}}]
dedupe: {key: [customer_id], order_by: updated_at, keep: last}

An operation is a name (``trim``) or a mapping with one key, the name, whose value holds its
arguments (``{case: title}``, ``{phone: {country: US}}``). ``lower``, ``upper`` and ``title``
are short for ``{case: ...}``. Operations run in the order written, each on the result of the
one before; the parsing ones (``boolean``, ``date``, ``timestamp``) change the column's type and
so must come last.
"""

from __future__ import annotations

import difflib
import itertools
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    field_validator,
    model_validator,
)

from sluiceway.spec.models_base import StrictModel

STAR = "*"
"""The key of the operations that apply to every text column."""

DEFAULT_NULL_TOKENS: tuple[str, ...] = ("", "N/A", "NA", "n/a", "null", "NULL", "None", "-")
DEFAULT_DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d",)
DEFAULT_TIMESTAMP_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
)

# The SQL type each parsing operation produces; every other operation keeps text as text.
PARSED_TYPES: dict[str, str] = {"boolean": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP"}

# strptime directives DuckDB's try_strptime understands (a `-` may follow the `%`).
_DIRECTIVE = re.compile(r"%(-?)(.)")
_KNOWN_DIRECTIVES = frozenset("aAwdbhBmyYHIpMSfgnzZjUWcxX%")


class _Op(StrictModel):
    """Fields and helpers every operation shares."""

    op: str = Field(description="The operation's name.")

    @property
    def name(self) -> str:
        """The operation as reports name it (``title`` for ``{case: title}``)."""
        return self.op

    @property
    def output_type(self) -> str | None:
        """The SQL type the operation produces, or ``None`` when text stays text."""
        return PARSED_TYPES.get(self.name)


class TrimOp(_Op):
    """Remove whitespace (spaces, tabs, line breaks, no-break spaces) at both ends."""

    op: Literal["trim"] = Field(description="`trim`.")


class CollapseWhitespaceOp(_Op):
    """Replace each run of whitespace inside the text by one space."""

    op: Literal["collapse_whitespace"] = Field(description="`collapse_whitespace`.")


class CaseOp(_Op):
    """Change letter case; `title` upper-cases the first letter of each word."""

    op: Literal["case"] = Field(description="`case`.")
    case: Literal["lower", "upper", "title"] = Field(description="`lower`, `upper` or `title`.")

    @property
    def name(self) -> str:
        return self.case


class NullTokensOp(_Op):
    """Turn placeholder text (``N/A``, ``null``, ``-`` …) into NULL.

    The comparison ignores whitespace around the value and is case-sensitive; a list given in
    the file replaces the default one.
    """

    op: Literal["null_tokens"] = Field(description="`null_tokens`.")
    tokens: tuple[str, ...] = Field(
        DEFAULT_NULL_TOKENS,
        min_length=1,
        description="The placeholders that mean 'no value'. Default: "
        + ", ".join(repr(t) for t in DEFAULT_NULL_TOKENS)
        + ".",
    )


class UsStateOp(_Op):
    """Any spelling of a US state or territory (name, AP abbreviation, code) to its code."""

    op: Literal["us_state"] = Field(description="`us_state`.")


class EmailOp(_Op):
    """Trim and lower-case an email address."""

    op: Literal["email"] = Field(description="`email`.")


class PhoneOp(_Op):
    """A North American number to E.164 (``+15551234567``); unparseable text is kept as is."""

    op: Literal["phone"] = Field(description="`phone`.")
    country: Literal["US", "CA"] = Field(
        "US", description="Where numbers without a country code are (both use +1)."
    )


class BooleanOp(_Op):
    """Y/N, yes/no, true/false, 1/0, t/f (any case, trimmed) to BOOLEAN; anything else NULL."""

    op: Literal["boolean"] = Field(description="`boolean`.")


def _strptime_formats(formats: tuple[str, ...]) -> tuple[str, ...]:
    """Each format has at least one directive and only ones DuckDB's strptime knows."""
    for text in formats:
        directives = _DIRECTIVE.findall(text)
        if not directives:
            raise ValueError(f"{text!r} has no % directive (write e.g. '%Y-%m-%d')")
        unknown = sorted(
            {f"%{dash}{char}" for dash, char in directives if char not in _KNOWN_DIRECTIVES}
        )
        if unknown or text.replace("%%", "").endswith("%"):
            bad = ", ".join(unknown) or "a trailing %"
            raise ValueError(f"{text!r} uses {bad}, which strptime does not know")
    return formats


Formats = Annotated[tuple[str, ...], AfterValidator(_strptime_formats)]


class DateOp(_Op):
    """Text to DATE with the first strptime format that parses it; NULL when none does."""

    op: Literal["date"] = Field(description="`date`.")
    formats: Formats = Field(
        DEFAULT_DATE_FORMATS,
        min_length=1,
        description="strptime formats tried in order, e.g. `%m/%d/%Y`.",
    )


class TimestampOp(_Op):
    """Text to TIMESTAMP with the first strptime format that parses it; NULL when none does.

    When a format reads a time zone (``%z``) the result is TIMESTAMPTZ.
    """

    op: Literal["timestamp"] = Field(description="`timestamp`.")
    formats: Formats = Field(
        DEFAULT_TIMESTAMP_FORMATS,
        min_length=1,
        description="strptime formats tried in order, e.g. `%Y-%m-%d %H:%M:%S`.",
    )

    @property
    def output_type(self) -> str:
        zoned = any("%z" in f.replace("%%", "") for f in self.formats)
        return "TIMESTAMPTZ" if zoned else "TIMESTAMP"


class ReplaceOp(_Op):
    """Replace every match of a regular expression (RE2 syntax in DuckDB)."""

    # Dumps write `with`, so a dumped spec loads again.
    model_config = ConfigDict(serialize_by_alias=True)

    op: Literal["replace"] = Field(description="`replace`.")
    pattern: str = Field(min_length=1, description="The regular expression to find.")
    replacement: str = Field(
        "", alias="with", description="What replaces each match; `\\1` is the first group."
    )


_WITH_ARGUMENTS = ("phone", "date", "timestamp", "replace")
_ARGUMENTS_REQUIRED = ("case", "replace")
_CASES = ("lower", "upper", "title")
OPERATIONS: tuple[str, ...] = tuple(
    sorted(
        (
            "trim",
            "collapse_whitespace",
            "case",
            *_CASES,
            "null_tokens",
            "us_state",
            "email",
            "phone",
            "boolean",
            "date",
            "timestamp",
            "replace",
        )
    )
)
"""Every name an operation may be written as."""


def _unknown(name: str) -> ValueError:
    close = difflib.get_close_matches(name, OPERATIONS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ValueError(
        f"unknown cleaning operation {name!r}{hint}; valid operations: {', '.join(OPERATIONS)}"
    )


def _from_mapping(name: str, argument: Any) -> dict[str, Any]:
    """The canonical form of ``{name: argument}``."""
    if name == "case":
        return {"op": "case", "case": argument}
    if name == "null_tokens":
        return {"op": name} if argument is None else {"op": name, "tokens": argument}
    if name in ("date", "timestamp") and isinstance(argument, list | tuple):
        return {"op": name, "formats": argument}
    if name in _WITH_ARGUMENTS:
        if argument is None:
            return {"op": name}
        if not isinstance(argument, dict):
            raise ValueError(f"`{name}` takes a mapping of arguments, got {argument!r}")
        return {"op": name, **argument}
    if argument not in (None, {}):
        raise ValueError(f"`{name}` takes no arguments, got {argument!r}")
    if name in _CASES:
        return {"op": "case", "case": name}
    return {"op": name}


def canonical_op(value: Any) -> Any:
    """``trim``, ``{case: title}`` … as ``{"op": ..., **arguments}`` (what the models read).

    A mapping that already has an ``op`` key (a dumped model) is returned as it is.
    """
    if isinstance(value, _Op):
        return value
    if isinstance(value, str):
        if value not in OPERATIONS:
            raise _unknown(value)
        if value in _ARGUMENTS_REQUIRED:
            example = "{case: title}" if value == "case" else '{replace: {pattern: "-", with: ""}}'
            raise ValueError(f"`{value}` needs arguments, e.g. {example}")
        return _from_mapping(value, None)
    if isinstance(value, dict):
        if "op" in value:
            return value
        if len(value) != 1:
            keys = ", ".join(repr(k) for k in value) or "none"
            raise ValueError(
                "an operation is a name (`trim`) or a mapping with one key, the name "
                f"(`{{case: title}}`); this mapping has keys {keys}"
            )
        ((name, argument),) = value.items()
        if not isinstance(name, str) or name not in OPERATIONS:
            raise _unknown(str(name))
        return _from_mapping(name, argument)
    raise ValueError(f"an operation is a name or a one-key mapping, got {value!r}")


_AnyOp = Annotated[
    TrimOp
    | CollapseWhitespaceOp
    | CaseOp
    | NullTokensOp
    | UsStateOp
    | EmailOp
    | PhoneOp
    | BooleanOp
    | DateOp
    | TimestampOp
    | ReplaceOp,
    Field(discriminator="op"),
]
# The shorthand is rewritten before the union picks a model by its `op` tag.
CleaningOp = Annotated[_AnyOp, BeforeValidator(canonical_op)]
"""One cleaning operation, written as a name or a one-key mapping (see the module docstring)."""


def _parsers_last(ops: list[Any]) -> list[Any]:
    """A parsing operation (text to BOOLEAN, DATE …) ends the list: no text op can follow."""
    for op, after in itertools.pairwise(ops):
        if op.output_type is not None:
            raise ValueError(
                f"`{op.name}` makes {op.output_type} values, so it must be the last operation "
                f"(`{after.name}` comes after it)"
            )
    return ops


OpList = Annotated[list[CleaningOp], Field(min_length=1), AfterValidator(_parsers_last)]


class CleaningSpec(RootModel[dict[str, OpList]]):
    """A source's ``clean:``: column name (or ``"*"``) to the operations applied, in order.

    A root model, not a :class:`StrictModel`: its keys are column names, not fields (pydantic
    refuses ``extra="forbid"`` on a root model; there are no fields to forbid anyway).
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    root: dict[str, OpList] = Field(
        description='Column name, or "*" for every text column, to the cleaning operations '
        "applied to it in order, before the schema contract sees the rows."
    )

    @field_validator("root")
    @classmethod
    def _columns(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for column, ops in value.items():
            if not column.strip():
                raise ValueError("a column name in `clean` is empty")
            parser = next((op for op in ops if op.output_type is not None), None)
            if column == STAR and parser is not None:
                raise ValueError(
                    f'`{parser.name}` under "*" would turn every text column into '
                    f"{parser.output_type}; list it under the columns that hold such values"
                )
        return value

    @property
    def star_ops(self) -> tuple[CleaningOp, ...]:
        """The operations for every text column (run first)."""
        return tuple(self.root.get(STAR, ()))

    @property
    def column_ops(self) -> dict[str, tuple[CleaningOp, ...]]:
        """The operations named per column, in the order the columns are written."""
        return {c: tuple(ops) for c, ops in self.root.items() if c != STAR}


Keep = Literal["last", "first"]


class DedupeSpec(StrictModel):
    """Keep one row per key: the latest (``keep: last``) or earliest by ``order_by``.

    Rows whose ``order_by`` is NULL lose to rows that have one. Ties (or no ``order_by``) go by
    arrival: ``last`` keeps the row that arrived last, ``first`` the one that arrived first.
    """

    key: list[str] = Field(min_length=1, description="The columns that identify a row.")
    order_by: str | None = Field(
        None,
        description="The column that orders versions of a row (e.g. `updated_at`); without it "
        "rows are ordered by arrival.",
    )
    keep: Keep = Field("last", description="`last` keeps the latest version, `first` the earliest.")

    @model_validator(mode="after")
    def _distinct_columns(self) -> DedupeSpec:
        if len(set(self.key)) != len(self.key):
            raise ValueError(f"`key` names a column twice: {self.key}")
        if self.order_by is not None and self.order_by in self.key:
            raise ValueError(
                f"`order_by` {self.order_by!r} is part of the key; it cannot order rows"
            )
        return self
