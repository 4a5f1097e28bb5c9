"""Infer column types of text files (CSV) from a sample, in one SQL query.

For each column the first candidate every non-null sampled value converts to wins:
BIGINT, DOUBLE, BOOLEAN, DATE, TIMESTAMP, TIMESTAMPTZ (every value with a zone offset),
else VARCHAR. Rules a data engineer would insist on:

- integers only from text written as an integer (``12.5`` is not one, though DuckDB's cast
  would round it);
- a value with a leading zero (``02134``) keeps the column as text: zip codes, account numbers;
- integers beyond 17 significant digits stay text rather than lose precision in a DOUBLE;
- BOOLEAN only from ``true``/``false`` (any case), never from 0/1 or Y/N;
- DATE and TIMESTAMP from ISO text, or from the source's ``date_format``/``timestamp_format``;
- a column with no value in the sample stays VARCHAR.

The rules are deliberately simple so the outcome is predictable; declare a type in ``columns:``
to override any of them.
"""

from __future__ import annotations

from typing import Any

import duckdb

from sluiceway.core.sql_quoting import quote_identifier
from sluiceway.schema.casting import INTEGER_PATTERN

_LEADING_ZERO = r"^\s*[+-]?0[0-9]"
_DOUBLE_PATTERN = r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*"
_DATE_PATTERN = r"\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\s*"
_TIME_PART = r"[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
_ZONE_PART = r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)"
_TIMESTAMP_PATTERN = rf"\s*[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}{_TIME_PART}\s*"
_TIMESTAMPTZ_PATTERN = rf"\s*[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}{_TIME_PART}\s*{_ZONE_PART}\s*"


def _gated(value: str, pattern: str, cast: str) -> str:
    # TRY_CAST is expensive on values that fail; a regex first keeps inference cheap.
    return (
        f"CASE WHEN regexp_full_match({value}, '{pattern}') "
        f"THEN TRY_CAST({value} AS {cast}) IS NOT NULL ELSE false END"
    )


def _candidates(
    value: str, date_format: str | None, timestamp_format: str | None
) -> list[tuple[str, str]]:
    """(type, SQL predicate on one text value) in the order candidates are tried."""
    integer = (
        f"{_gated(value, INTEGER_PATTERN, 'BIGINT')} "
        f"AND NOT regexp_matches({value}, '{_LEADING_ZERO}')"
    )
    # Not from codes with a leading zero; not from integers too long for a DOUBLE's precision.
    double = (
        f"regexp_full_match({value}, '{_DOUBLE_PATTERN}') "
        f"AND NOT regexp_matches({value}, '{_LEADING_ZERO}') "
        f"AND NOT (length(trim({value})) > 17 AND regexp_full_match({value}, '{INTEGER_PATTERN}'))"
    )
    if date_format:
        date = f"try_strptime({value}, $date_format) IS NOT NULL"
    else:
        date = _gated(value, _DATE_PATTERN, "DATE")
    if timestamp_format:
        timestamp = f"try_strptime({value}, $timestamp_format) IS NOT NULL"
    else:
        timestamp = _gated(value, _TIMESTAMP_PATTERN, "TIMESTAMP")
    return [
        ("BIGINT", integer),
        ("DOUBLE", double),
        ("BOOLEAN", f"lower(trim({value})) IN ('true', 'false')"),
        ("DATE", date),
        ("TIMESTAMP", timestamp),
        ("TIMESTAMPTZ", _gated(value, _TIMESTAMPTZ_PATTERN, "TIMESTAMPTZ")),
    ]


def infer_text_types(
    con: duckdb.DuckDBPyConnection,
    scan_sql: str,
    params: dict[str, Any],
    columns: list[str],
    *,
    sample_size: int,
    date_format: str | None = None,
    timestamp_format: str | None = None,
) -> dict[str, str]:
    """SQL type per column, from the first ``sample_size`` rows (all rows when negative).

    ``scan_sql`` must read every column as VARCHAR.
    """
    if not columns:
        return {}
    checks: list[str] = []
    for column in columns:
        value = quote_identifier(column)
        for _, test in _candidates(value, date_format, timestamp_format):
            checks.append(
                f"bool_and({value} IS NULL OR ({test})) AND count({value}) > 0 AS c{len(checks)}"
            )
    limit = f" LIMIT {int(sample_size)}" if sample_size >= 0 else ""
    query_params = dict(params)
    if date_format:
        query_params["date_format"] = date_format
    if timestamp_format:
        query_params["timestamp_format"] = timestamp_format
    sql = f"SELECT {', '.join(checks)} FROM (SELECT * FROM {scan_sql}{limit})"
    (row,) = con.sql(sql, params=query_params).fetchall()  # an aggregate: one row
    per_column = len(_candidates("x", date_format, timestamp_format))
    types: dict[str, str] = {}
    for position, column in enumerate(columns):
        results = row[position * per_column : (position + 1) * per_column]
        names = [name for name, _ in _candidates("x", date_format, timestamp_format)]
        types[column] = next(
            (name for name, ok in zip(names, results, strict=True) if ok), "VARCHAR"
        )
    return types
