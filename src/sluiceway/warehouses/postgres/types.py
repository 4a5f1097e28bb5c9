"""Arrow types and PostgreSQL column types, both ways.

Rows travel into PostgreSQL as binary ``COPY`` (encoded by pgpq from Arrow batches). The binary
format of a value must match its column's type exactly, so every batch is first *conformed*:
cast to the Arrow type whose binary encoding is the column's (int8 -> int16, nanosecond
timestamps -> microseconds, dictionaries decoded, structs and maps as JSON text). Tables
Sluiceway creates take their column types from the same mapping, so a conformed batch always
fits them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pyarrow as pa

# PostgreSQL type names (as format_type() writes them) -> Arrow, for reading schemas back.
_SCALAR_ARROW: dict[str, pa.DataType] = {
    "boolean": pa.bool_(),
    "smallint": pa.int16(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "real": pa.float32(),
    "double precision": pa.float64(),
    "text": pa.string(),
    "character varying": pa.string(),
    "character": pa.string(),
    "json": pa.string(),
    "jsonb": pa.string(),
    "uuid": pa.string(),
    "bytea": pa.binary(),
    "date": pa.date32(),
    "time without time zone": pa.time64("us"),
    "timestamp without time zone": pa.timestamp("us"),
    "timestamp with time zone": pa.timestamp("us", tz="UTC"),
    "interval": pa.duration("us"),
}
_MODIFIERS = re.compile(r"\(.*?\)")
_NUMERIC = re.compile(r"numeric\((\d+),(\d+)\)")


def arrow_type(pg_type: str) -> pa.DataType:
    """The Arrow type holding values of a PostgreSQL column type (``format_type`` spelling)."""
    text = pg_type.strip().lower()
    if text.endswith("[]"):
        return pa.list_(arrow_type(text[:-2]))
    found = _NUMERIC.fullmatch(text.replace(" ", ""))
    if found:
        precision, scale = int(found.group(1)), int(found.group(2))
        if precision <= 38:
            return pa.decimal128(precision, scale)
        return pa.string()
    if text == "numeric":
        return pa.string()  # unbounded precision: exact as text
    base = _MODIFIERS.sub("", text).strip()
    return _SCALAR_ARROW.get(base, pa.string())


def _json_text(array: pa.Array) -> pa.Array:
    """Structs, maps and unions as JSON text (PostgreSQL has no struct column here)."""
    return pa.array(
        [None if v is None else json.dumps(v, default=str) for v in array.to_pylist()],
        pa.string(),
    )


Conform = tuple[pa.DataType, str, Callable[[pa.Array], pa.Array]]


def _same(array: pa.Array) -> pa.Array:
    return array


def _cast_to(target: pa.DataType) -> Callable[[pa.Array], pa.Array]:
    return lambda array: array.cast(target)


def _conformer(type_: pa.DataType) -> Conform:
    """(the Arrow type to encode, the PostgreSQL column type, how to get there)."""
    if pa.types.is_dictionary(type_):
        inner, pg, convert = _conformer(type_.value_type)
        return inner, pg, lambda a: convert(a.cast(type_.value_type))
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        value = type_.value_type
        if pa.types.is_nested(value):
            return pa.string(), "JSONB", _json_text
        inner, pg, _ = _conformer(value)
        target = pa.list_(inner)
        return target, f"{pg}[]", _cast_to(target)
    if pa.types.is_null(type_):
        return pa.string(), "TEXT", _cast_to(pa.string())
    found = _number(type_) or _scalar(type_)
    return found if found is not None else (pa.string(), "JSONB", _json_text)


def _number(type_: pa.DataType) -> Conform | None:
    if pa.types.is_boolean(type_):
        return type_, "BOOLEAN", _same
    if pa.types.is_integer(type_):
        width = type_.bit_width + (1 if pa.types.is_unsigned_integer(type_) else 0)
        for bits, target, pg in ((16, pa.int16(), "SMALLINT"), (32, pa.int32(), "INTEGER")):
            if width <= bits:
                return target, pg, _cast_to(target)
        if width <= 64:
            return pa.int64(), "BIGINT", _cast_to(pa.int64())
        return pa.decimal128(20, 0), "NUMERIC(20,0)", _cast_to(pa.decimal128(20, 0))
    if pa.types.is_float16(type_) or pa.types.is_float32(type_):
        return pa.float32(), "REAL", _cast_to(pa.float32())
    if pa.types.is_float64(type_):
        return type_, "DOUBLE PRECISION", _same
    if pa.types.is_decimal(type_):
        if type_.precision > 38:
            return pa.string(), "NUMERIC", _cast_to(pa.string())
        target = pa.decimal128(type_.precision, type_.scale)
        return target, f"NUMERIC({type_.precision},{type_.scale})", _cast_to(target)
    return None


def _scalar(type_: pa.DataType) -> Conform | None:
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return type_, "TEXT", _same
    if pa.types.is_string_view(type_):
        return pa.string(), "TEXT", _cast_to(pa.string())
    if pa.types.is_binary(type_) or pa.types.is_large_binary(type_):
        return type_, "BYTEA", _same
    if pa.types.is_fixed_size_binary(type_) or pa.types.is_binary_view(type_):
        return pa.binary(), "BYTEA", _cast_to(pa.binary())
    if pa.types.is_date(type_):
        return pa.date32(), "DATE", _cast_to(pa.date32())
    if pa.types.is_time(type_):
        return pa.time64("us"), "TIME", _cast_to(pa.time64("us"))
    if pa.types.is_timestamp(type_):
        target = pa.timestamp("us", tz=type_.tz)
        # Nanoseconds are truncated to PostgreSQL's microseconds, never rejected.
        return target, ("TIMESTAMPTZ" if type_.tz else "TIMESTAMP"), _truncating(target)
    if pa.types.is_duration(type_):
        return pa.duration("us"), "INTERVAL", _truncating(pa.duration("us"))
    return None


def _truncating(target: pa.DataType) -> Callable[[pa.Array], pa.Array]:
    return lambda array: array.cast(target, safe=False)


def column_type(type_: pa.DataType) -> str:
    """The PostgreSQL type of a column Sluiceway creates for Arrow values of ``type_``."""
    return _conformer(type_)[1]


class Conformer:
    """Casts batches of one Arrow schema to what binary COPY into PostgreSQL needs."""

    def __init__(self, schema: pa.Schema) -> None:
        parts = [_conformer(field.type) for field in schema]
        self.schema = pa.schema(
            [pa.field(f.name, p[0], nullable=True) for f, p in zip(schema, parts, strict=True)]
        )
        self.pg_types = [p[1] for p in parts]
        self._converts = [p[2] for p in parts]
        self._jsonb = [i for i, p in enumerate(parts) if p[1] == "JSONB"]

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        columns = [convert(c) for convert, c in zip(self._converts, batch.columns, strict=True)]
        return pa.RecordBatch.from_arrays(columns, schema=self.schema)

    @property
    def jsonb_columns(self) -> list[int]:
        """Columns sent as JSON text into JSONB (encoded with pgpq's JSONB output)."""
        return self._jsonb
