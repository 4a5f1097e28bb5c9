"""MySQL and MariaDB result columns as Arrow types, from the protocol's field descriptions.

The result's metadata says each column's type code, length, flags (unsigned, binary, enum)
and character set, which is enough to type it before the first row:

=============================================  ==============================  ====================
MySQL / MariaDB                                Arrow                           notes
=============================================  ==============================  ====================
``tinyint(1)``, ``bool``, ``bit(1)``           ``bool``                        MySQL's booleans
``tinyint`` … ``bigint``                       ``int8`` … ``int64``
``… unsigned``                                 ``uint8`` … ``uint64``
``year``                                       ``int16``
``bit(n)``                                     ``int64`` (``uint64`` for 64)
``decimal(p,s)``, p ≤ 38 / p ≤ 65              ``decimal128``/``decimal256``
``float``, ``double``                          ``float32``, ``float64``
``char``, ``varchar``, ``text``, ``enum``,     ``string``
``set``, ``json``, ``uuid`` (MariaDB)
``binary``, ``varbinary``, ``blob``,           ``binary``
``geometry``
``date``                                       ``date32``                      zero dates → NULL
``datetime``                                   ``timestamp[us]``               zero dates → NULL
``timestamp``                                  ``timestamp[us, tz=UTC]``       read in UTC
``time``                                       ``time64[us]``                  outside a day → NULL
=============================================  ==============================  ====================

A ``time`` is MySQL's elapsed time too (``-838:59:59`` to ``838:59:59``): only the values of
one day have a ``time64`` equivalent; the rest load as NULL and are counted in the run report.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pyarrow as pa

from sluiceway.sources.sql.arrow_rows import ColumnPlan

UNSIGNED_FLAG = 32
BINARY_CHARSET = 63
_DECIMAL128_MAX = 38
_DECIMAL256_MAX = 76
_DAY = timedelta(days=1)

_INTEGERS: dict[int, tuple[str, pa.DataType, pa.DataType]] = {
    1: ("tinyint", pa.int8(), pa.uint8()),
    2: ("smallint", pa.int16(), pa.uint16()),
    9: ("mediumint", pa.int32(), pa.uint32()),
    3: ("int", pa.int32(), pa.uint32()),
    8: ("bigint", pa.int64(), pa.uint64()),
}
_TIMES: dict[int, tuple[str, pa.DataType]] = {
    10: ("date", pa.date32()),
    14: ("date", pa.date32()),
    12: ("datetime", pa.timestamp("us")),
    7: ("timestamp", pa.timestamp("us", tz="UTC")),
}
_TEXTS = {15: "varchar", 253: "varchar", 254: "char", 249: "tinyblob", 250: "mediumblob"}
_TEXTS |= {251: "longblob", 252: "blob", 247: "enum", 248: "set", 245: "json", 6: "null"}


def _is_date(value: Any) -> Any:
    return value if isinstance(value, date) else None  # a zero date arrives as its text


def _time_of_day(value: Any) -> Any:
    if isinstance(value, time):
        return value
    if isinstance(value, timedelta) and timedelta(0) <= value < _DAY:
        return (datetime.min + value).time()
    return None


def _bits(value: Any) -> int:
    return int.from_bytes(value, "big") if isinstance(value, bytes) else int(value)


def _bit(value: Any) -> bool:
    return _bits(value) != 0


def column_plan(
    name: str, *, type_code: int, length: int, flags: int, charset: int, scale: int
) -> ColumnPlan:
    """The plan of one result column, from its field description.

    >>> column_plan("ok", type_code=1, length=1, flags=0, charset=63, scale=0).arrow
    DataType(bool)
    """
    unsigned = bool(flags & UNSIGNED_FLAG)
    if type_code in _INTEGERS:
        db_type, signed_type, unsigned_type = _INTEGERS[type_code]
        if type_code == 1 and length == 1 and not unsigned:
            return ColumnPlan(name, pa.bool_(), "tinyint(1)", convert=bool)
        arrow = unsigned_type if unsigned else signed_type
        return ColumnPlan(name, arrow, f"{db_type}{' unsigned' if unsigned else ''}")
    if type_code == 13:
        return ColumnPlan(name, pa.int16(), "year")
    if type_code == 16:
        if length == 1:
            return ColumnPlan(name, pa.bool_(), "bit(1)", convert=_bit)
        arrow = pa.uint64() if length >= 64 else pa.int64()
        return ColumnPlan(name, arrow, f"bit({length})", convert=_bits)
    if type_code in (0, 246):
        return _decimal(name, length=length, scale=scale, unsigned=unsigned)
    if type_code == 4:
        return ColumnPlan(name, pa.float32(), "float")
    if type_code == 5:
        return ColumnPlan(name, pa.float64(), "double")
    if type_code in _TIMES:
        db_type, arrow = _TIMES[type_code]
        return ColumnPlan(name, arrow, db_type, repair=_is_date)
    if type_code == 11:
        return ColumnPlan(name, pa.time64("us"), "time", convert=_time_of_day)
    if type_code == 255:
        return ColumnPlan(name, pa.binary(), "geometry")
    db_type = _TEXTS.get(type_code, f"type {type_code}")
    if charset == BINARY_CHARSET and type_code not in (245, 247, 248, 6):
        return ColumnPlan(name, pa.binary(), db_type.replace("varchar", "varbinary"))
    return ColumnPlan(name, pa.string(), db_type)


def _decimal(name: str, *, length: int, scale: int, unsigned: bool) -> ColumnPlan:
    # The display length counts the digits, the point (if any) and the sign (if signed).
    precision = length - (1 if scale > 0 else 0) - (0 if unsigned else 1)
    db_type = f"decimal({precision},{scale})"
    if precision < max(scale, 1) or precision > _DECIMAL256_MAX:
        return ColumnPlan(name, pa.string(), db_type, convert=_decimal_text)
    if precision <= _DECIMAL128_MAX:
        return ColumnPlan(name, pa.decimal128(precision, scale), db_type)
    return ColumnPlan(name, pa.decimal256(precision, scale), db_type)


def _decimal_text(value: Any) -> str:
    return format(value, "f") if not isinstance(value, str) else value
