"""Converting values to a column's type without silent damage, as DuckDB SQL.

DuckDB's own casts are lenient where a data engineer needs them strict: text ``'12.5'`` cast to
BIGINT is ``13`` (rounded, by design), ``'0x1F'`` is 31, and a DOUBLE cast to BIGINT rounds too.
Every conversion here yields NULL for a value that does not convert *exactly*, so the caller
can tell "NULL because the input was NULL" from "NULL because the value did not fit" and send
the second kind to the dead-letter queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from sluiceway.core.sql_types import sql_type

# Text written as an integer; whitespace around it is fine, anything else is not.
INTEGER_PATTERN = r"\s*[+-]?[0-9]+\s*"


def decimal_pattern(scale: int) -> str:
    """Text a DECIMAL(p, ``scale``) holds without rounding: at most ``scale`` significant
    decimals; trailing zeros beyond them (``1.230`` in DECIMAL(10,2)) are exact and allowed."""
    # RE2 (DuckDB's regex engine) has no lookahead: ".5" needs its own alternative so that "."
    # alone does not match.
    some = rf"[0-9]{{1,{scale}}}0*" if scale > 0 else "0+"
    return rf"\s*[+-]?([0-9]+(\.({some})?)?|\.{some})\s*"


@dataclass(frozen=True, slots=True)
class TextOptions:
    """How text is read into a type: date formats, decimal commas, boolean words."""

    format: str | None = None
    decimal_comma: bool = False
    true_values: tuple[str, ...] = ()
    false_values: tuple[str, ...] = ()


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t))


def exact_cast_sql(
    value: str,
    source: pa.DataType,
    target: pa.DataType,
    *,
    options: TextOptions | None = None,
    params: dict[str, Any],
    key: str,
) -> str:
    """A SQL expression converting ``value`` (SQL text) from ``source`` to ``target``.

    Yields NULL when the value does not convert exactly. Parameters it needs are added to
    ``params`` under names starting with ``key``.
    """
    options = options or TextOptions()
    target_sql = sql_type(target)
    if pa.types.is_string(target) or pa.types.is_large_string(target):
        return f"CAST({value} AS VARCHAR)"
    if pa.types.is_null(source):
        return f"CAST({value} AS {target_sql})"
    if _is_text(source):
        return _from_text(value, target, target_sql, options=options, params=params, key=key)
    if pa.types.is_integer(target) and (
        pa.types.is_floating(source) or pa.types.is_decimal(source)
    ):
        return f"CASE WHEN {value} = trunc({value}) THEN TRY_CAST({value} AS {target_sql}) END"
    if pa.types.is_decimal(target) and pa.types.is_floating(source):
        scale = target.scale
        return (
            f"CASE WHEN round({value}, {scale}) = {value} "
            f"THEN TRY_CAST({value} AS {target_sql}) END"
        )
    if pa.types.is_timestamp(source) and pa.types.is_timestamp(target):
        if source.tz is None and target.tz is not None:
            return f"timezone('UTC', {value})"  # naive values read as UTC
        if source.tz is not None and target.tz is None:
            return f"timezone('UTC', {value})"  # the UTC wall-clock time, zone dropped
    return f"TRY_CAST({value} AS {target_sql})"


def _from_text(
    value: str,
    target: pa.DataType,
    target_sql: str,
    *,
    options: TextOptions,
    params: dict[str, Any],
    key: str,
) -> str:
    text = value
    if options.decimal_comma and (
        pa.types.is_integer(target) or pa.types.is_decimal(target) or pa.types.is_floating(target)
    ):
        text = f"replace(replace({value}, '.', ''), ',', '.')"
    if pa.types.is_integer(target):
        params[f"{key}_pattern"] = INTEGER_PATTERN
        return (
            f"CASE WHEN regexp_full_match({text}, ${key}_pattern) "
            f"THEN TRY_CAST({text} AS {target_sql}) END"
        )
    if pa.types.is_decimal(target):
        params[f"{key}_pattern"] = decimal_pattern(target.scale)
        return (
            f"CASE WHEN regexp_full_match({text}, ${key}_pattern) "
            f"THEN TRY_CAST({text} AS {target_sql}) END"
        )
    if pa.types.is_boolean(target) and (options.true_values or options.false_values):
        params[f"{key}_true"] = [v.lower() for v in options.true_values]
        params[f"{key}_false"] = [v.lower() for v in options.false_values]
        return (
            f"CASE WHEN list_contains(${key}_true, lower(trim({value}))) THEN true "
            f"WHEN list_contains(${key}_false, lower(trim({value}))) THEN false END"
        )
    if options.format and (pa.types.is_date(target) or pa.types.is_timestamp(target)):
        params[f"{key}_format"] = options.format
        return f"TRY_CAST(try_strptime({value}, ${key}_format) AS {target_sql})"
    return f"TRY_CAST({text} AS {target_sql})"
