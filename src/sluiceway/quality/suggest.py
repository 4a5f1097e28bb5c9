"""Quality rules suggested from a profile, for a person to review and paste under ``checks:``.

Every suggestion describes the data as profiled, not as it should be: thresholds get a little
headroom, and each rule comes with ``on_fail: warn`` and a comment saying what it was read
from, so that nothing suggested can reject a row until someone has looked at it.

Example::

    >>> from sluiceway.quality.profile import ColumnProfile, TableProfile
    >>> column = ColumnProfile("email", "VARCHAR", "string", count=10, nulls=0,
    ...                        null_share=0.0, distinct=10)
    >>> suggest_rules(TableProfile("t", None, "2026-01-01T00:00:00+00:00", 10, (column,)))
    [{'rule': 'not_null', 'column': 'email', 'on_fail': 'warn'}]
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

from sluiceway.quality.profile import ColumnProfile, TableProfile

# Most distinct values an accepted_values rule lists.
MAX_ACCEPTED_VALUES = 20
# Share of a column's non-null values whose pattern must fit a format to suggest it; when the
# column's name also says so, the lower bar.
FORMAT_SHARE = 0.9
FORMAT_SHARE_NAMED = 0.5

_KEY_NAME = re.compile(r"(^|_)(id|key|uuid|guid)$", re.IGNORECASE)
_INTEGER_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
    | {"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
)
# Pattern classes (see sluiceway.quality.profile: A upper, a lower, 9 digits, + a run) that
# values of each format take.
_FORMAT_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    "url": re.compile(r"^a\+?://\S*$"),
    "uuid": re.compile(r"^[Aa9+]+-[Aa9+]+-[Aa9+]+-[Aa9+]+-[Aa9+]+$"),
    "iso_date": re.compile(r"^9\+-9\+-9\+$"),
    "zip_us": re.compile(r"^9\+(-9\+)?$"),
    "phone": re.compile(r"^(\+?9\+?[ .-]?)?(\(9\+\)|9\+)[ .-]?9\+([ .-]?9\+)?$"),
}
_FORMAT_NAMES: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"e_?mail", re.IGNORECASE),
    "url": re.compile(r"url|link|website|href", re.IGNORECASE),
    "uuid": re.compile(r"uuid|guid", re.IGNORECASE),
    "iso_date": re.compile(r"date|day", re.IGNORECASE),
    "zip_us": re.compile(r"zip|postal|postcode", re.IGNORECASE),
    "phone": re.compile(r"phone|mobile|cell|fax|(^|_)tel($|_)", re.IGNORECASE),
}
# Lengths (min, max) a format's values have; None where they vary.
_FORMAT_LENGTHS: dict[str, tuple[int, int] | None] = {
    "email": None,
    "url": None,
    "uuid": (36, 36),
    "iso_date": (10, 10),
    "zip_us": (5, 10),
    "phone": (10, 17),
}
# Shapes too ambiguous without the column's name saying what it holds.
_NEEDS_NAME = frozenset({"phone", "zip_us"})
_DESCRIBED = {
    "email": "e-mail addresses",
    "url": "URLs",
    "uuid": "UUIDs",
    "iso_date": "ISO dates",
    "zip_us": "US ZIP codes",
    "phone": "phone numbers",
}

Suggestion = tuple[dict[str, Any], str]


def suggest_rules(profile: TableProfile) -> list[dict[str, Any]]:
    """Rules (as they are written under ``checks:``) the profiled data satisfies today."""
    return [rule for rule, _ in _suggestions(profile)]


def suggestions_yaml(profile: TableProfile, *, source: str | None = None) -> str:
    """:func:`suggest_rules` as YAML text, one rule a line, each under a comment saying why.

    The text parses (``yaml.safe_load``) into a list of rule mappings and can be pasted under
    a source's ``checks:`` key as it is.
    """
    where = f" for source {source}" if source else ""
    lines = [
        f"# Checks suggested{where} from a profile of {profile.table} "
        f"({profile.rows} rows, profiled {profile.profiled_at}).",
        "# They describe the data as it is; review each before relying on it.",
    ]
    suggestions = _suggestions(profile)
    for rule, reason in suggestions:
        lines.append("# " + " ".join(reason.split()))
        dumped = yaml.safe_dump(rule, default_flow_style=True, sort_keys=False, width=1 << 30)
        lines.append("- " + dumped.strip())
    if not suggestions:
        lines.append("[]")
    return "\n".join(lines) + "\n"


def _suggestions(profile: TableProfile) -> list[Suggestion]:
    found: list[Suggestion] = []
    for column in profile.columns:
        found += _column_suggestions(column, profile.rows)
    return found


def _rule(rule: str, column: ColumnProfile, **params: Any) -> dict[str, Any]:
    return {"rule": rule, "column": column.name, **params, "on_fail": "warn"}


def _column_suggestions(column: ColumnProfile, rows: int) -> list[Suggestion]:
    if rows == 0 or column.count == 0:
        return []  # nothing observed: nothing to suggest
    found: list[Suggestion] = []
    if column.nulls == 0:
        found.append((_rule("not_null", column), f"0 nulls in {rows} rows"))
    else:
        limit = _round_up_share(column.null_share)
        found.append(
            (
                _rule("completeness", column, max_null_share=limit),
                f"{column.nulls} nulls in {rows} rows ({column.null_share:.2%})",
            )
        )
    fmt = _format(column)
    unique = _unique(column, rows, fmt)
    if unique is not None:
        found.append(unique)
    for suggestion in (_accepted_values(column), _range(column)):
        if suggestion is not None:
            found.append(suggestion)
    if fmt is not None:
        name, share = fmt
        found.append(
            (
                _rule("format", column, format=name),
                f"{share:.0%} of the values look like {_DESCRIBED[name]}",
            )
        )
    elif column.length is not None and column.length.min == column.length.max:
        size = column.length.min
        found.append(
            (
                _rule("length", column, min=size, max=size),
                f"every value is {size} characters long",
            )
        )
    return found


def _unique(column: ColumnProfile, rows: int, fmt: tuple[str, float] | None) -> Suggestion | None:
    """A unique rule for a column that looks like a key and has no repeated or null value."""
    if rows < 2 or column.nulls or column.distinct != rows:
        return None
    keyish = (
        _KEY_NAME.search(column.name) is not None
        or column.type in _INTEGER_TYPES
        or (fmt is not None and fmt[0] == "uuid")
    )
    if not keyish:
        return None
    rule = {"rule": "unique", "columns": [column.name], "on_fail": "warn"}
    return rule, f"{rows} distinct values in {rows} rows"


def _accepted_values(column: ColumnProfile) -> Suggestion | None:
    """The list of values of a low-cardinality text column, when the top values hold them all."""
    if column.kind != "string" or column.distinct is None:
        return None
    covered = sum(t.count for t in column.top_values)
    few = 0 < column.distinct <= MAX_ACCEPTED_VALUES and len(column.top_values) == column.distinct
    # Values must repeat: a handful of rows with all-different values is no vocabulary.
    if not few or covered != column.count or column.count < 2 * column.distinct:
        return None
    values = sorted(t.value for t in column.top_values)
    return (
        _rule("accepted_values", column, values=values),
        f"{column.distinct} distinct values cover all {column.count} non-null rows",
    )


def _range(column: ColumnProfile) -> Suggestion | None:
    """Bounds a little outside the observed minimum and maximum of a numeric column."""
    low, high = column.min, column.max
    if column.kind != "numeric" or isinstance(low, bool) or isinstance(high, bool):
        return None
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return None
    lo, hi = _nice_bounds(float(low), float(high), integer=column.type in _INTEGER_TYPES)
    return _rule("range", column, min=lo, max=hi), f"observed {low} to {high}"


def _nice_bounds(low: float, high: float, *, integer: bool) -> tuple[int | float, int | float]:
    """``low`` rounded down and ``high`` rounded up at one digit below the larger magnitude
    (0.5..1187.5 -> 0..1200), whole numbers as ints."""
    span = max(abs(low), abs(high))
    exponent = math.floor(math.log10(span)) - 1 if span > 0 else 0
    if integer:
        exponent = max(exponent, 0)
    step = 10.0**exponent
    lo, hi = math.floor(low / step) * step, math.ceil(high / step) * step
    if exponent >= 0:
        return int(lo), int(hi)
    return round(lo, -exponent), round(hi, -exponent)


def _round_up_share(share: float) -> float:
    """A null-share limit with 10% headroom, rounded up to two significant digits, at most 1."""
    padded = min(share * 1.1, 1.0)
    if padded <= 0:
        return 0.0
    digits = 1 - math.floor(math.log10(padded))
    # round() first: 0.5 * 1.1 is 0.55000000000000004, which must not become 0.56
    rounded: float = round(math.ceil(round(padded * 10**digits, 9)) / 10**digits, digits)
    return min(rounded, 1.0)


def _format(column: ColumnProfile) -> tuple[str, float] | None:
    """The named format most of a text column's values have (by their patterns), if any."""
    if column.kind != "string" or not column.patterns or not column.count:
        return None
    for name, shape in _FORMAT_PATTERNS.items():
        named = _FORMAT_NAMES[name].search(column.name) is not None
        if name in _NEEDS_NAME and not named and not _unambiguous(name, column):
            continue
        lengths = _FORMAT_LENGTHS[name]
        length = column.length
        if lengths and length and (length.min < lengths[0] or length.max > lengths[1]):
            continue
        share = sum(p.count for p in column.patterns if shape.match(p.pattern)) / column.count
        if share >= (FORMAT_SHARE_NAMED if named else FORMAT_SHARE):
            return name, share
    return None


def _unambiguous(name: str, column: ColumnProfile) -> bool:
    """Whether a phone or ZIP shape is telling without the column's name: "(555) 123-4567"
    is a phone number; five digits, always exactly five, are a ZIP code."""
    if name == "phone":
        return any(p.pattern.startswith("(9+)") for p in column.patterns or ())
    length = column.length
    return length is not None and length.min == length.max == 5
