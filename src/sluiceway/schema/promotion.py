"""Type promotion: the narrowest Arrow type that holds the values of two types without loss.

Used wherever two schemas must become one: the files of one glob, successive batches, a batch
and the table it lands in. ``None`` means there is no lossless common type; the caller decides
(an error, a variant column, a cast to text).

Integers and decimals widen into DOUBLE, as in every SQL engine: exact up to 2**53 (about 15
significant digits), the nearest DOUBLE beyond. Refusing it would fail a load whenever a day's
amounts happen to be whole numbers.
"""

from __future__ import annotations

import pyarrow as pa

_MAX_DECIMAL_PRECISION = 38


def promote(left: pa.DataType, right: pa.DataType) -> pa.DataType | None:
    """The common type of ``left`` and ``right``, or ``None`` when there is none."""
    if left.equals(right):
        return left
    if pa.types.is_null(left):
        return right
    if pa.types.is_null(right):
        return left
    if _is_text(left) or _is_text(right):
        return _text_promotion(left, right)
    for first, second in ((left, right), (right, left)):
        common = _numeric(first, second) or _temporal(first, second) or _nested(first, second)
        if common is not None:
            return common
    return None


def is_widening(source: pa.DataType, target: pa.DataType) -> bool:
    """``True`` if every value of ``source`` is representable in ``target`` unchanged."""
    if _same_instant_type(source, target):
        return True
    # Target first: a struct's common type keeps the first operand's field order, so a struct
    # holding a subset of the target's fields (in any order) widens into it.
    common = promote(target, source)
    return common is not None and common.equals(target)


def _same_instant_type(a: pa.DataType, b: pa.DataType) -> bool:
    return bool(
        pa.types.is_timestamp(a)
        and pa.types.is_timestamp(b)
        and a.tz is not None
        and b.tz is not None
        and a.unit == b.unit
    )


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t))


def _text_promotion(left: pa.DataType, right: pa.DataType) -> pa.DataType | None:
    # Text holds any scalar's rendering, but not a nested value's structure.
    if _is_nested(left) or _is_nested(right):
        return None
    return pa.string()


def _is_nested(t: pa.DataType) -> bool:
    return bool(pa.types.is_struct(t) or pa.types.is_list(t) or pa.types.is_map(t))


def _int_digits(t: pa.DataType) -> int:
    return len(str(2 ** (t.bit_width - (0 if pa.types.is_unsigned_integer(t) else 1))))


def _numeric(a: pa.DataType, b: pa.DataType) -> pa.DataType | None:
    if pa.types.is_integer(a) and pa.types.is_integer(b):
        return _integers(a, b)
    if pa.types.is_integer(a) and pa.types.is_floating(b):
        return pa.float64()
    if pa.types.is_floating(a) and pa.types.is_floating(b):
        return pa.float64()
    if pa.types.is_integer(a) and pa.types.is_decimal(b):
        precision = max(b.precision, _int_digits(a) + b.scale)
        return pa.decimal128(precision, b.scale) if precision <= _MAX_DECIMAL_PRECISION else None
    if pa.types.is_decimal(a) and pa.types.is_decimal(b):
        scale = max(a.scale, b.scale)
        integral = max(a.precision - a.scale, b.precision - b.scale)
        if integral + scale > _MAX_DECIMAL_PRECISION:
            return None
        return pa.decimal128(integral + scale, scale)
    if pa.types.is_decimal(a) and pa.types.is_floating(b):
        return pa.float64()
    if pa.types.is_boolean(a) and (
        pa.types.is_integer(b) or pa.types.is_floating(b) or pa.types.is_decimal(b)
    ):
        return b  # 0 and 1 fit every numeric type, so widening stays transitive
    return None


def _integers(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    a_signed = pa.types.is_signed_integer(a)
    b_signed = pa.types.is_signed_integer(b)
    if a_signed == b_signed:
        return a if a.bit_width >= b.bit_width else b
    unsigned = b if a_signed else a
    signed = a if a_signed else b
    # A signed type must be strictly wider than the unsigned one to hold all its values.
    for candidate in (pa.int16(), pa.int32(), pa.int64()):
        if candidate.bit_width > unsigned.bit_width and candidate.bit_width >= signed.bit_width:
            return candidate
    return pa.decimal128(20, 0)


_UNITS = ("s", "ms", "us", "ns")


def _temporal(a: pa.DataType, b: pa.DataType) -> pa.DataType | None:
    if pa.types.is_date(a) and pa.types.is_date(b):
        return pa.date32()
    if pa.types.is_date(a) and pa.types.is_timestamp(b):
        return b
    if pa.types.is_timestamp(a) and pa.types.is_timestamp(b):
        if (a.tz is None) != (b.tz is None):
            return None  # naive and zone-aware: which zone was meant is a policy, not a type
        unit = max(a.unit, b.unit, key=_UNITS.index)
        # Zone-aware values are instants; the zone name is only a display preference.
        zone = a.tz if a.tz == b.tz else ("UTC" if a.tz is not None else None)
        return pa.timestamp(unit, tz=zone)
    return None


def _nested(a: pa.DataType, b: pa.DataType) -> pa.DataType | None:
    if pa.types.is_struct(a) and pa.types.is_struct(b):
        fields: dict[str, pa.DataType] = {f.name: f.type for f in a}
        for field in b:
            if field.name in fields:
                common = promote(fields[field.name], field.type)
                if common is None:
                    return None
                fields[field.name] = common
            else:
                fields[field.name] = field.type
        return pa.struct([pa.field(name, t) for name, t in fields.items()])
    if pa.types.is_list(a) and pa.types.is_list(b):
        inner = promote(a.value_type, b.value_type)
        return pa.list_(inner) if inner is not None else None
    return None
