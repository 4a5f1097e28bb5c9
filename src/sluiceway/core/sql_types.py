"""SQL types (as users write them, DuckDB dialect) and their Arrow equivalents.

Arrow is the lingua franca between stages, SQL is what users declare and what warehouses store.
Both directions go through sqlglot's ``DataType`` so spelling variants (``VARCHAR``, ``TEXT``,
``STRING``; ``TIMESTAMP WITH TIME ZONE``, ``TIMESTAMPTZ``) mean the same thing.
"""

from __future__ import annotations

import typing

import pyarrow as pa
from sqlglot import exp
from sqlglot.errors import SqlglotError

from sluiceway.core.errors import ConfigError

T = exp.DataType.Type

_SCALARS: dict[typing.Any, pa.DataType] = {
    T.BOOLEAN: pa.bool_(),
    T.TINYINT: pa.int8(),
    T.SMALLINT: pa.int16(),
    T.INT: pa.int32(),
    T.BIGINT: pa.int64(),
    T.UTINYINT: pa.uint8(),
    T.USMALLINT: pa.uint16(),
    T.UINT: pa.uint32(),
    T.UBIGINT: pa.uint64(),
    T.INT128: pa.decimal128(38, 0),
    T.FLOAT: pa.float32(),
    T.DOUBLE: pa.float64(),
    T.TEXT: pa.string(),
    T.VARCHAR: pa.string(),
    T.CHAR: pa.string(),
    T.JSON: pa.string(),
    T.UUID: pa.string(),
    T.VARBINARY: pa.binary(),
    T.BINARY: pa.binary(),
    T.DATE: pa.date32(),
    T.TIME: pa.time64("us"),
    T.TIMESTAMP: pa.timestamp("us"),
    T.TIMESTAMPNTZ: pa.timestamp("us"),
    T.DATETIME: pa.timestamp("us"),
    T.TIMESTAMPTZ: pa.timestamp("us", tz="UTC"),
    T.TIMESTAMPLTZ: pa.timestamp("us", tz="UTC"),
    T.TIMESTAMP_S: pa.timestamp("s"),
    T.TIMESTAMP_MS: pa.timestamp("ms"),
    T.TIMESTAMP_NS: pa.timestamp("ns"),
    T.INTERVAL: pa.month_day_nano_interval(),
}


def parse_sql_type(text: str, *, column: str | None = None) -> exp.DataType:
    """Parse a SQL type as written in a pipeline file; a bad type is a :class:`ConfigError`."""
    where = f" for column {column!r}" if column else ""
    try:
        parsed = exp.DataType.build(text, dialect="duckdb")
    except (SqlglotError, ValueError) as exc:
        raise ConfigError(
            f"{text!r}{where} is not a SQL type",
            hint="Use a DuckDB type: BOOLEAN, INTEGER, BIGINT, DOUBLE, DECIMAL(p,s), VARCHAR, "
            "DATE, TIMESTAMP, TIMESTAMPTZ, BLOB, or a LIST/STRUCT of them.",
        ) from exc
    if parsed.this == T.USERDEFINED:
        raise ConfigError(f"{text!r}{where} is not a SQL type DuckDB knows")
    return parsed


def arrow_type(sql_type: str | exp.DataType) -> pa.DataType:
    """The Arrow type that holds values of ``sql_type``."""
    parsed = parse_sql_type(sql_type) if isinstance(sql_type, str) else sql_type
    kind = parsed.this
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == T.DECIMAL:
        params = [int(p.name) for p in parsed.expressions]
        precision, scale = (params + [18, 3][len(params) :])[:2]
        return pa.decimal128(precision, scale)
    if kind in (T.ARRAY, T.LIST):
        (inner,) = parsed.expressions
        return pa.list_(arrow_type(inner))
    if kind == T.STRUCT:
        fields = []
        for member in parsed.expressions:
            name = member.this.name if isinstance(member.this, exp.Expr) else str(member.this)
            kind_expr = member.args["kind"]
            fields.append(pa.field(name, arrow_type(kind_expr)))
        return pa.struct(fields)
    if kind == T.MAP:
        key, value = parsed.expressions
        return pa.map_(arrow_type(key), arrow_type(value))
    raise ConfigError(f"SQL type {parsed.sql('duckdb')} has no Arrow equivalent yet")


_SIMPLE_SQL: tuple[tuple[typing.Callable[[pa.DataType], bool], str], ...] = (
    (pa.types.is_boolean, "BOOLEAN"),
    (pa.types.is_float16, "FLOAT"),
    (pa.types.is_float32, "FLOAT"),
    (pa.types.is_float64, "DOUBLE"),
    (pa.types.is_string, "VARCHAR"),
    (pa.types.is_large_string, "VARCHAR"),
    (pa.types.is_string_view, "VARCHAR"),
    (pa.types.is_dictionary, "VARCHAR"),
    (pa.types.is_binary, "BLOB"),
    (pa.types.is_large_binary, "BLOB"),
    (pa.types.is_date, "DATE"),
    (pa.types.is_time, "TIME"),
    (pa.types.is_interval, "INTERVAL"),
    (pa.types.is_duration, "INTERVAL"),
    (pa.types.is_null, "NULL"),
)
_INT_NAMES = {8: "TINYINT", 16: "SMALLINT", 32: "INTEGER", 64: "BIGINT"}


def sql_type(arrow: pa.DataType) -> str:
    """The DuckDB SQL spelling of an Arrow type (used in diffs and DDL)."""
    for predicate, name in _SIMPLE_SQL:
        if predicate(arrow):
            return name
    if pa.types.is_integer(arrow):
        prefix = "U" if pa.types.is_unsigned_integer(arrow) else ""
        return prefix + _INT_NAMES[arrow.bit_width]
    if pa.types.is_decimal(arrow):
        return f"DECIMAL({arrow.precision},{arrow.scale})"
    if pa.types.is_timestamp(arrow):
        return "TIMESTAMPTZ" if arrow.tz else "TIMESTAMP"
    if pa.types.is_list(arrow) or pa.types.is_large_list(arrow):
        return f"{sql_type(arrow.value_type)}[]"
    if pa.types.is_struct(arrow):
        members = ", ".join(f'"{f.name}" {sql_type(f.type)}' for f in arrow)
        return f"STRUCT({members})"
    if pa.types.is_map(arrow):
        return f"MAP({sql_type(arrow.key_type)}, {sql_type(arrow.item_type)})"
    return str(arrow).upper()
