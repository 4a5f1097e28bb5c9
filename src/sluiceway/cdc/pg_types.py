"""PostgreSQL column types as Arrow types, and decoded values as Python values Arrow accepts.

Types are named as ``format_type`` spells them (``numeric(10,2)``, ``timestamp(3) with time
zone``, ``character varying(20)``): that is what the catalog returns and what wal2json writes in
each change. A domain is read as its base type (the catalog query resolves it).

=============================================  ==========================  ========================
PostgreSQL                                     Arrow                       notes
=============================================  ==========================  ========================
``smallint``                                   ``int16``
``integer``                                    ``int32``
``bigint``                                     ``int64``
``oid``                                        ``int64``                   unsigned 32-bit in PG
``real``                                       ``float32``                 NaN/±Infinity → null ¹
``double precision``                           ``float64``                 NaN/±Infinity → null ¹
``numeric(p,s)``, p ≤ 38                       ``decimal128(p, s)``        NaN/±Infinity → null ¹
``numeric(p,s)``, 38 < p ≤ 76                  ``decimal256(p, s)``        NaN/±Infinity → null ¹
``numeric`` (no precision), p > 76             ``string``                  exact decimal text
``boolean``                                    ``bool``
``text``, ``varchar``, ``char``, ``name``      ``string``
``json``, ``jsonb``                            ``string``                  the JSON document text
``uuid``, ``inet``, ``money``, enums, …        ``string``                  PostgreSQL's text form
``interval``                                   ``string``                  ISO 8601 (``P1DT2H``)
arrays, ranges, ``time with time zone``        ``string``                  PostgreSQL's text form
``bytea``                                      ``binary``
``date``                                       ``date32``                  out of range → null ²
``timestamp``                                  ``timestamp[us]``           out of range → null ²
``timestamp with time zone``                   ``timestamp[us, tz=UTC]``   out of range → null ²
``time``                                       ``time64[us]``              ``24:00:00`` → null
=============================================  ==========================  ========================

¹ wal2json (up to 2.5) writes non-finite numbers as JSON ``null``; they cannot be told apart.
² ``infinity``, ``-infinity``, BC dates and years after 9999 have no Python/Arrow value.

Values arrive as wal2json writes them: numbers for the numeric types (parsed as ``Decimal`` so
nothing is rounded on the way), ``true``/``false`` for booleans, and the type's text output for
everything else, produced under the session settings the reader pins (``TimeZone=UTC``,
``DateStyle=ISO``, ``IntervalStyle=iso_8601``), so the text forms here are the only ones seen.
A domain's values come as text even when its base type is a number; the converters accept both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa

Converter = Callable[[Any], Any]

_DECIMAL128_MAX = 38
_DECIMAL256_MAX = 76

_TYPE_NAME = re.compile(
    r"^(?P<base>[^(\[]+)(?:\((?P<modifier>[^)]*)\))?(?P<rest>[^\[]*)(?P<array>(?:\[\])*)$"
)


@dataclass(frozen=True, slots=True)
class ColumnType:
    """How one PostgreSQL column lands in Arrow: the Arrow type and a value converter."""

    pg_type: str
    arrow: pa.DataType
    convert: Converter

    def array(self, values: list[Any]) -> pa.Array:
        """An Arrow array of ``values`` (raw decoded values; ``None`` is null)."""
        return pa.array(
            [None if value is None else self.convert(value) for value in values], type=self.arrow
        )


def _to_int(value: Any) -> int:
    return int(value)


def _to_float(value: Any) -> float:
    return float(value)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in {"t", "true"}


def _to_decimal(value: Any) -> Decimal | None:
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return number if number.is_finite() else None


def _to_decimal_text(value: Any) -> str:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return str(value)
    # "f" keeps the digits PostgreSQL wrote: str(Decimal("0.00000001")) would say "1E-8".
    return format(number, "f") if number.is_finite() else str(number)


def _to_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _to_bytes(value: Any) -> bytes:
    text = str(value)
    return bytes.fromhex(text[2:] if text.startswith("\\x") else text)


def _to_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:  # infinity, BC, after 9999
        return None


def _to_timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _to_timestamptz(value: Any) -> datetime | None:
    moment = _to_timestamp(value)
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _to_time(value: Any) -> time | None:
    try:
        return time.fromisoformat(str(value))
    except ValueError:  # 24:00:00 is a valid PostgreSQL time
        return None


_SIMPLE: dict[str, tuple[pa.DataType, Converter]] = {
    "smallint": (pa.int16(), _to_int),
    "integer": (pa.int32(), _to_int),
    "bigint": (pa.int64(), _to_int),
    "oid": (pa.int64(), _to_int),
    "real": (pa.float32(), _to_float),
    "double precision": (pa.float64(), _to_float),
    "boolean": (pa.bool_(), _to_bool),
    "bytea": (pa.binary(), _to_bytes),
    "date": (pa.date32(), _to_date),
    "timestamp without time zone": (pa.timestamp("us"), _to_timestamp),
    "timestamp with time zone": (pa.timestamp("us", tz="UTC"), _to_timestamptz),
    "time without time zone": (pa.time64("us"), _to_time),
}
_STRING = (pa.string(), _to_text)


def _numeric(modifier: str | None) -> tuple[pa.DataType, Converter]:
    if not modifier:
        return pa.string(), _to_decimal_text
    parts = [part.strip() for part in modifier.split(",")]
    precision, scale = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    if not 0 <= scale <= precision:  # PostgreSQL 15 allows negative scales and scale > precision
        return pa.string(), _to_decimal_text
    if precision <= _DECIMAL128_MAX:
        return pa.decimal128(precision, scale), _to_decimal
    if precision <= _DECIMAL256_MAX:
        return pa.decimal256(precision, scale), _to_decimal
    return pa.string(), _to_decimal_text


def column_type(pg_type: str) -> ColumnType:
    """The Arrow landing of a column of ``pg_type`` (a ``format_type`` name).

    >>> column_type("numeric(10,2)").arrow
    Decimal128Type(decimal128(10, 2))
    >>> column_type("timestamp(3) with time zone").arrow
    TimestampType(timestamp[us, tz=UTC])
    """
    match = _TYPE_NAME.match(pg_type.strip())
    if match is None or match["array"]:
        return ColumnType(pg_type, *_STRING)
    base = " ".join(f"{match['base']} {match['rest']}".split())
    if base == "numeric":
        return ColumnType(pg_type, *_numeric(match["modifier"]))
    if base == "timestamp":  # format_type always spells the zone, but be liberal
        base = "timestamp without time zone"
    return ColumnType(pg_type, *_SIMPLE.get(base, _STRING))
