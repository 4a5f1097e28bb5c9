"""Schema export: JSON Schema and Avro for one row, checked against real validators and rows.

The JSON side validates real rows (built in Arrow, read back with ``to_pylist`` and written as
JSON the way the module docstring documents) with ``jsonschema``; the Avro side parses with
``fastavro`` and round-trips the same rows through an Avro file. fastavro is lenient about
names, so :func:`check_avro_spec` checks the Avro spec rules it skips.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
from collections.abc import Callable
from decimal import Context, Decimal
from typing import Any

import fastavro
import jsonschema
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sluiceway.core.errors import SchemaError

# The scalar types arrow_type() produces, so the coverage test below notices a new one.
from sluiceway.core.sql_types import _SCALARS, arrow_type
from sluiceway.schema.export import (
    BASE64_PATTERN,
    DURATION_PATTERN,
    LOCAL_TIMESTAMP_PATTERN,
    TIME_PATTERN,
    UNRESOLVED_NOTE,
    avro_name,
    decimal_pattern,
    to_avro,
    to_json_schema,
)
from sluiceway.schema.model import ColumnSchema, TableSchema

pytestmark = pytest.mark.unit

UTC = dt.UTC
DIALECT = "https://json-schema.org/draft/2020-12/schema"

# -- helpers: validators, and rows in the documented JSON and Avro forms ------------------------

_RFC3339_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})"
)


def _is_rfc3339_date_time(instance: object) -> bool:
    """jsonschema checks ``date-time`` only with an optional package; this is the same rule."""
    if not isinstance(instance, str):
        return True
    if not _RFC3339_DATE_TIME.fullmatch(instance):
        return False
    dt.datetime.fromisoformat(instance)  # ValueError for impossible dates and times
    return True


FORMATS = jsonschema.FormatChecker()
FORMATS.checks("date-time", raises=ValueError)(_is_rfc3339_date_time)


def json_validator(schema: dict[str, Any]) -> Any:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=FORMATS)


def json_errors(schema: dict[str, Any], row: dict[str, Any]) -> set[str]:
    """The keywords that reject ``row`` (empty when it is valid)."""
    return {error.validator for error in json_validator(schema).iter_errors(row)}


def iso_duration(months: int, days: int, nanoseconds: int) -> str:
    seconds = format(Decimal(nanoseconds).scaleb(-9).normalize(), "f")
    return f"P{months}M{days}DT{seconds}S"


def json_value(value: Any, arrow: pa.DataType) -> Any:
    """A ``to_pylist`` value as the module docstring says it is written in JSON."""
    if value is None:
        return None
    if pa.types.is_dictionary(arrow):
        arrow = arrow.value_type
    if pa.types.is_decimal(arrow):
        return format(value, "f")
    if pa.types.is_binary(arrow) or pa.types.is_fixed_size_binary(arrow):
        return base64.b64encode(value).decode("ascii")
    if pa.types.is_date(arrow) or pa.types.is_time(arrow) or pa.types.is_timestamp(arrow):
        return value.isoformat()
    if pa.types.is_interval(arrow):
        return iso_duration(value.months, value.days, value.nanoseconds)
    if pa.types.is_list(arrow) or pa.types.is_fixed_size_list(arrow):
        return [json_value(item, arrow.value_type) for item in value]
    if pa.types.is_struct(arrow):
        return {child.name: json_value(value[child.name], child.type) for child in arrow}
    if pa.types.is_map(arrow):
        if pa.types.is_string(arrow.key_type):
            return {key: json_value(item, arrow.item_type) for key, item in value}
        return [
            {"key": json_value(key, arrow.key_type), "value": json_value(item, arrow.item_type)}
            for key, item in value
        ]
    return value


def json_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as JSON text would carry them (dumped and parsed, so nothing but JSON survives)."""
    rows = [
        {f.name: json_value(row[f.name], f.type) for f in table.schema} for row in table.to_pylist()
    ]
    parsed: list[dict[str, Any]] = json.loads(json.dumps(rows, allow_nan=False))
    return parsed


def _non_null(avro: Any) -> Any:
    return avro[1] if isinstance(avro, list) else avro


def avro_value(value: Any, arrow: pa.DataType, avro: Any) -> Any:
    """A ``to_pylist`` value as fastavro takes it for ``avro`` (the exported field type)."""
    if value is None:
        return None
    avro = _non_null(avro)
    if pa.types.is_dictionary(arrow):
        arrow = arrow.value_type
    if pa.types.is_uint64(arrow):
        return Decimal(value)
    if pa.types.is_interval(arrow):
        return {"months": value.months, "days": value.days, "nanoseconds": value.nanoseconds}
    if pa.types.is_list(arrow) or pa.types.is_fixed_size_list(arrow):
        return [avro_value(item, arrow.value_type, avro["items"]) for item in value]
    if pa.types.is_struct(arrow):
        return {
            field["name"]: avro_value(value[child.name], child.type, field["type"])
            for child, field in zip(arrow, avro["fields"], strict=True)
        }
    if pa.types.is_map(arrow):
        if avro["type"] == "map":
            return {key: avro_value(item, arrow.item_type, avro["values"]) for key, item in value}
        key_field, value_field = avro["items"]["fields"]
        return [
            {
                "key": avro_value(key, arrow.key_type, key_field["type"]),
                "value": avro_value(item, arrow.item_type, value_field["type"]),
            }
            for key, item in value
        ]
    return value


def avro_rows(table: pa.Table, record: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            field["name"]: avro_value(row[f.name], f.type, field["type"])
            for f, field in zip(table.schema, record["fields"], strict=True)
        }
        for row in table.to_pylist()
    ]


def avro_round_trip(
    record: dict[str, Any], rows: list[dict[str, Any]], reader_schema: dict[str, Any] | None = None
) -> list[Any]:
    buffer = io.BytesIO()
    fastavro.writer(buffer, fastavro.parse_schema(record), rows)
    buffer.seek(0)
    reader = fastavro.reader(
        buffer, None if reader_schema is None else fastavro.parse_schema(reader_schema)
    )
    return list(reader)


_AVRO_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_avro_spec(node: Any, records: set[str] | None = None) -> None:
    """The Avro spec rules fastavro.parse_schema does not enforce.

    Names are valid Avro names, field names are unique within a record, record names are unique
    across the schema (case-insensitively, as promised), aliases are names, a union is
    ``["null", T]`` and a default is only ever ``null`` on a field that can be null.
    """
    records = set() if records is None else records
    if isinstance(node, str):
        return
    if isinstance(node, list):
        assert len(node) == 2
        assert node[0] == "null"
        assert node[1] != "null"
        assert not isinstance(node[1], list)
        check_avro_spec(node[1], records)
        return
    if node["type"] == "record":
        assert _AVRO_NAME.fullmatch(node["name"]), node["name"]
        assert node["name"].lower() not in records, node["name"]
        records.add(node["name"].lower())
        names = [field["name"] for field in node["fields"]]
        assert len(set(names)) == len(names), names
        for field in node["fields"]:
            assert _AVRO_NAME.fullmatch(field["name"]), field["name"]
            assert all(_AVRO_NAME.fullmatch(alias) for alias in field.get("aliases", []))
            if "default" in field:
                assert field["default"] is None
                assert field["type"] == "null" or field["type"][0] == "null"
            check_avro_spec(field["type"], records)
    elif node["type"] == "array":
        check_avro_spec(node["items"], records)
    elif node["type"] == "map":
        check_avro_spec(node["values"], records)


def one_column(arrow: pa.DataType | None, *, nullable: bool = False) -> TableSchema:
    return TableSchema((ColumnSchema("v", arrow, nullable),))


# -- the mapping, type by type -----------------------------------------------------------------

INTERVAL_RECORD = {
    "type": "record",
    "name": "MonthDayNano",
    "doc": "An Arrow month_day_nano interval; each part is signed.",
    "fields": [
        {"name": "months", "type": "int"},
        {"name": "days", "type": "int"},
        {"name": "nanoseconds", "type": "long"},
    ],
}
STRING = {"type": "string"}
BINARY = {"type": "string", "contentEncoding": "base64", "pattern": BASE64_PATTERN}
DATE = {"type": "string", "format": "date"}
TIME = {"type": "string", "pattern": TIME_PATTERN}
LOCAL_TIMESTAMP = {"type": "string", "pattern": LOCAL_TIMESTAMP_PATTERN}
TIMESTAMPTZ = {"type": "string", "format": "date-time"}
INTERVAL = {"type": "string", "pattern": DURATION_PATTERN}
AVRO_DATE = {"type": "int", "logicalType": "date"}
AVRO_TIME = {"type": "long", "logicalType": "time-micros"}
AVRO_LOCAL = {"type": "long", "logicalType": "local-timestamp-micros"}
AVRO_UTC = {"type": "long", "logicalType": "timestamp-micros"}


def avro_decimal(precision: int, scale: int) -> dict[str, Any]:
    return {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}


def integer(low: int, high: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high}


SQL_CASES: list[tuple[str, dict[str, Any], Any]] = [
    ("BOOLEAN", {"type": "boolean"}, "boolean"),
    ("TINYINT", integer(-128, 127), "int"),
    ("SMALLINT", integer(-32768, 32767), "int"),
    ("INTEGER", integer(-2147483648, 2147483647), "int"),
    ("BIGINT", integer(-9223372036854775808, 9223372036854775807), "long"),
    ("UTINYINT", integer(0, 255), "int"),
    ("USMALLINT", integer(0, 65535), "int"),
    ("UINTEGER", integer(0, 4294967295), "long"),
    ("UBIGINT", integer(0, 18446744073709551615), avro_decimal(20, 0)),
    (
        "HUGEINT",
        {"type": "string", "pattern": "^-?[0-9]{1,38}$"},
        avro_decimal(38, 0),
    ),
    ("FLOAT", {"type": "number"}, "float"),
    ("DOUBLE", {"type": "number"}, "double"),
    (
        "DECIMAL(12,2)",
        {"type": "string", "pattern": r"^-?[0-9]{1,10}(?:\.[0-9]{1,2})?$"},
        avro_decimal(12, 2),
    ),
    (
        "DECIMAL",
        {"type": "string", "pattern": r"^-?[0-9]{1,15}(?:\.[0-9]{1,3})?$"},
        avro_decimal(18, 3),
    ),
    ("VARCHAR", STRING, "string"),
    ("TEXT", STRING, "string"),
    ("CHAR", STRING, "string"),
    ("JSON", STRING, "string"),
    ("UUID", STRING, "string"),
    ("BLOB", BINARY, "bytes"),
    ("VARBINARY", BINARY, "bytes"),
    ("DATE", DATE, AVRO_DATE),
    ("TIME", TIME, AVRO_TIME),
    ("TIMESTAMP", LOCAL_TIMESTAMP, AVRO_LOCAL),
    ("TIMESTAMP_S", LOCAL_TIMESTAMP, AVRO_LOCAL),
    ("TIMESTAMP_MS", LOCAL_TIMESTAMP, AVRO_LOCAL),
    ("TIMESTAMP_NS", LOCAL_TIMESTAMP, AVRO_LOCAL),
    ("TIMESTAMPTZ", TIMESTAMPTZ, AVRO_UTC),
    ("INTERVAL", INTERVAL, INTERVAL_RECORD),
    (
        "INTEGER[]",
        {
            "type": "array",
            "items": {**integer(-2147483648, 2147483647), "type": ["integer", "null"]},
        },
        {"type": "array", "items": ["null", "int"]},
    ),
    (
        'STRUCT("a" VARCHAR, "b c" DATE)',
        {
            "type": "object",
            "properties": {
                "a": {"type": ["string", "null"]},
                "b c": {"type": ["string", "null"], "format": "date"},
            },
            "required": [],
            "additionalProperties": False,
        },
        {
            "type": "record",
            "name": "t_v",
            "fields": [
                {"name": "a", "type": ["null", "string"], "default": None},
                {
                    "name": "b_c",
                    "type": ["null", AVRO_DATE],
                    "default": None,
                    "sluiceway.column": "b c",
                },
            ],
        },
    ),
    (
        "MAP(VARCHAR, DOUBLE)",
        {"type": "object", "additionalProperties": {"type": ["number", "null"]}},
        {"type": "map", "values": ["null", "double"]},
    ),
    (
        "MAP(DATE, VARCHAR)",
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"key": DATE, "value": {"type": ["string", "null"]}},
                "required": ["key"],
                "additionalProperties": False,
            },
        },
        {
            "type": "array",
            "items": {
                "type": "record",
                "name": "t_v_entry",
                "fields": [
                    {"name": "key", "type": AVRO_DATE},
                    {"name": "value", "type": ["null", "string"], "default": None},
                ],
            },
        },
    ),
]


@pytest.mark.parametrize(("sql", "expected_json", "expected_avro"), SQL_CASES)
def test_each_sql_type_maps_as_documented(
    sql: str, expected_json: dict[str, Any], expected_avro: Any
) -> None:
    schema = one_column(arrow_type(sql))

    json_schema = to_json_schema(schema, title="t")
    avro = to_avro(schema, name="t")

    assert json_schema["properties"] == {"v": expected_json}
    assert avro["fields"] == [{"name": "v", "type": expected_avro}]
    jsonschema.Draft202012Validator.check_schema(json_schema)
    fastavro.parse_schema(avro)


def test_the_table_covers_every_scalar_type_sql_types_produces() -> None:
    covered = {arrow_type(sql) for sql, _, _ in SQL_CASES}
    missing = [t for t in set(_SCALARS.values()) if t not in covered]
    assert missing == []


@pytest.mark.parametrize(
    ("arrow", "expected_json", "expected_avro"),
    [
        (pa.float16(), {"type": "number"}, "float"),
        (pa.large_string(), STRING, "string"),
        (pa.string_view(), STRING, "string"),
        (pa.dictionary(pa.int32(), pa.string()), STRING, "string"),
        (pa.large_binary(), BINARY, "bytes"),
        (pa.binary(16), BINARY, "bytes"),
        (pa.date64(), DATE, AVRO_DATE),
        (pa.time32("ms"), TIME, AVRO_TIME),
        (pa.timestamp("ns", tz="Europe/Paris"), TIMESTAMPTZ, AVRO_UTC),
        (pa.duration("s"), INTERVAL, INTERVAL_RECORD),
        (pa.null(), {"type": "null"}, "null"),
        (
            pa.large_list(pa.field("item", pa.int8(), nullable=False)),
            {"type": "array", "items": integer(-128, 127)},
            {"type": "array", "items": "int"},
        ),
        (
            pa.list_(pa.field("item", pa.bool_(), nullable=False), 2),
            {"type": "array", "items": {"type": "boolean"}, "minItems": 2, "maxItems": 2},
            {"type": "array", "items": "boolean"},
        ),
        (
            pa.map_(pa.large_string(), pa.field("value", pa.int64(), nullable=False)),
            {
                "type": "object",
                "additionalProperties": integer(-(2**63), 2**63 - 1),
            },
            {"type": "map", "values": "long"},
        ),
    ],
)
def test_other_arrow_types_map_like_their_sql_type(
    arrow: pa.DataType, expected_json: dict[str, Any], expected_avro: Any
) -> None:
    schema = one_column(arrow)

    assert to_json_schema(schema, title="t")["properties"] == {"v": expected_json}
    assert to_avro(schema, name="t")["fields"] == [{"name": "v", "type": expected_avro}]


EXPORTS: dict[str, Callable[[TableSchema], dict[str, Any]]] = {
    "json": lambda schema: to_json_schema(schema, title="t"),
    "avro": lambda schema: to_avro(schema, name="t"),
}


@pytest.mark.parametrize("export", list(EXPORTS))
def test_a_type_without_an_equivalent_is_a_schema_error_naming_the_column(export: str) -> None:
    union = pa.dense_union([pa.field("i", pa.int32()), pa.field("s", pa.string())])
    schema = TableSchema((ColumnSchema("payload", pa.struct([pa.field("either", union)])),))

    with pytest.raises(SchemaError, match="has no") as caught:
        EXPORTS[export](schema)

    assert caught.value.location is not None
    assert caught.value.location.column == "payload"
    assert caught.value.location.field == "payload.either"


@pytest.mark.parametrize("export", list(EXPORTS))
def test_a_struct_with_a_repeated_field_name_is_a_schema_error(export: str) -> None:
    repeated = pa.struct([pa.field("a", pa.int32()), pa.field("a", pa.string())])
    schema = one_column(repeated)

    with pytest.raises(SchemaError, match="more than one field named 'a'"):
        EXPORTS[export](schema)


def test_nullable_columns_accept_null_and_only_non_nullable_ones_are_required() -> None:
    schema = TableSchema(
        (
            ColumnSchema("id", pa.int32(), nullable=False),
            ColumnSchema("name", pa.string(), nullable=True),
        )
    )

    json_schema = to_json_schema(schema, title="t")
    avro = to_avro(schema, name="t")

    assert json_schema["required"] == ["id"]
    assert json_schema["properties"]["name"] == {"type": ["string", "null"]}
    assert avro["fields"] == [
        {"name": "id", "type": "int"},
        {"name": "name", "type": ["null", "string"], "default": None},
    ]
    assert json_errors(json_schema, {"id": 1, "name": None}) == set()
    assert json_errors(json_schema, {"id": 1}) == set()
    assert json_errors(json_schema, {"id": None}) == {"type"}
    assert json_errors(json_schema, {"name": "x"}) == {"required"}


@pytest.mark.parametrize("nullable", [True, False])
def test_an_unresolved_column_accepts_only_null_and_says_why(nullable: bool) -> None:
    schema = one_column(None, nullable=nullable)

    json_schema = to_json_schema(schema, title="t")
    (field,) = to_avro(schema, name="t")["fields"]

    assert json_schema["properties"]["v"] == {"type": "null", "description": UNRESOLVED_NOTE}
    assert "only null" in UNRESOLVED_NOTE
    assert field["type"] == "null"
    assert field["doc"] == UNRESOLVED_NOTE
    assert ("default" in field) is nullable
    assert json_errors(json_schema, {"v": None}) == set()
    assert json_errors(json_schema, {"v": "text"}) == {"type"}
    assert avro_round_trip(to_avro(schema, name="t"), [{"v": None}]) == [{"v": None}]


# -- the patterns behind the text forms --------------------------------------------------------


@pytest.mark.parametrize(
    ("precision", "scale", "good", "bad"),
    [
        (5, 2, ["0", "-0.5", "123.45", "999.99", "7"], ["1234", "1.234", "1e3", ".5", "1.", "+1"]),
        (38, 0, ["-" + "9" * 38, "0"], ["1" * 39, "1.0"]),
        (4, 4, ["0.9999", "-0.1", "0"], ["1.0", "0.12345"]),
        (5, 7, ["0.0000123", "0"], ["0.00001234", "1"]),  # Arrow allows scale > precision
        (3, -2, ["99900", "5"], ["100000", "1.5"]),  # and negative scales
    ],
)
def test_decimal_pattern_checks_precision_and_scale(
    precision: int, scale: int, good: list[str], bad: list[str]
) -> None:
    pattern = re.compile(decimal_pattern(precision, scale))

    assert [text for text in good if not pattern.search(text)] == []
    assert [text for text in bad if pattern.search(text)] == []


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        (
            TIME_PATTERN,
            ["00:00:00", "23:59:59.999999", "13:45:00.123456789"],
            ["24:00:00", "13:45", "13:45:00Z", "13:45:00+01:00", "13:45:00.1234567890"],
        ),
        (
            LOCAL_TIMESTAMP_PATTERN,
            ["2024-05-31T13:45:00", "0001-01-01T00:00:00.5"],
            ["2024-05-31 13:45:00", "2024-05-31T13:45:00Z", "2024-13-01T00:00:00", "2024-05-31"],
        ),
        (
            BASE64_PATTERN,
            ["", "iVBORw==", "AAEC", "AAE=", "+/+/"],
            ["not base64!", "AAE", "A===", "iVBORw"],
        ),
        (
            DURATION_PATTERN,
            ["P1M-2DT0.5S", "P0M0DT0S", "PT-1.000000001S", "-P1Y2M3W4DT5H6M7S", "P3D", "PT36H"],
            ["P", "PT", "1 month", "P1.5M", "P1DT", "PT1.0000000001S", "P1H"],
        ),
    ],
)
def test_text_patterns_accept_the_documented_form_only(
    pattern: str, good: list[str], bad: list[str]
) -> None:
    compiled = re.compile(pattern)

    assert [text for text in good if not compiled.search(text)] == []
    assert [text for text in bad if compiled.search(text)] == []


def test_iso_duration_as_the_docstring_writes_it() -> None:
    assert iso_duration(1, -2, 500_000_000) == "P1M-2DT0.5S"
    assert iso_duration(0, 0, 0) == "P0M0DT0S"
    assert iso_duration(0, 0, 10_000_000_000) == "P0M0DT10S"
    assert iso_duration(-1, 0, -1) == "P-1M0DT-0.000000001S"


# -- a representative table: golden exports, real rows ----------------------------------------

ORDERS = TableSchema(
    (
        ColumnSchema("id", arrow_type("BIGINT"), nullable=False),
        ColumnSchema("order date", arrow_type("DATE")),
        ColumnSchema("amount", arrow_type("DECIMAL(12,2)"), nullable=False),
        ColumnSchema(
            "customer",
            pa.struct([pa.field("name", pa.string(), nullable=False), pa.field("vip", pa.bool_())]),
        ),
        ColumnSchema("tags", arrow_type("VARCHAR[]")),
        ColumnSchema("attributes", arrow_type("MAP(VARCHAR, DOUBLE)")),
        ColumnSchema("line_qty", arrow_type("MAP(INTEGER, SMALLINT)")),
        ColumnSchema("created_at", arrow_type("TIMESTAMPTZ"), nullable=False),
        ColumnSchema("shipped_at", arrow_type("TIMESTAMP")),
        ColumnSchema("delivery_window", arrow_type("INTERVAL")),
        ColumnSchema("photo", arrow_type("BLOB")),
        ColumnSchema("pickup", arrow_type("TIME")),
        ColumnSchema("notes", None),
    )
)

ORDERS_JSON_SCHEMA: dict[str, Any] = {
    "$schema": DIALECT,
    "title": "orders",
    "description": "One row of bronze.orders.",
    "$comment": "Sluiceway table schema version 7.",
    "x-sluiceway-version": 7,
    "x-sluiceway-fingerprint": ORDERS.fingerprint,
    "type": "object",
    "properties": {
        "id": {
            "type": "integer",
            "minimum": -9223372036854775808,
            "maximum": 9223372036854775807,
        },
        "order date": {"type": ["string", "null"], "format": "date"},
        "amount": {"type": "string", "pattern": r"^-?[0-9]{1,10}(?:\.[0-9]{1,2})?$"},
        "customer": {
            "type": ["object", "null"],
            "properties": {
                "name": {"type": "string"},
                "vip": {"type": ["boolean", "null"]},
            },
            "required": ["name"],
            "additionalProperties": False,
        },
        "tags": {"type": ["array", "null"], "items": {"type": ["string", "null"]}},
        "attributes": {
            "type": ["object", "null"],
            "additionalProperties": {"type": ["number", "null"]},
        },
        "line_qty": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {
                    "key": {"type": "integer", "minimum": -2147483648, "maximum": 2147483647},
                    "value": {"type": ["integer", "null"], "minimum": -32768, "maximum": 32767},
                },
                "required": ["key"],
                "additionalProperties": False,
            },
        },
        "created_at": {"type": "string", "format": "date-time"},
        "shipped_at": {"type": ["string", "null"], "pattern": LOCAL_TIMESTAMP_PATTERN},
        "delivery_window": {"type": ["string", "null"], "pattern": DURATION_PATTERN},
        "photo": {
            "type": ["string", "null"],
            "contentEncoding": "base64",
            "pattern": BASE64_PATTERN,
        },
        "pickup": {"type": ["string", "null"], "pattern": TIME_PATTERN},
        "notes": {"type": "null", "description": UNRESOLVED_NOTE},
    },
    "required": ["id", "amount", "created_at"],
    "additionalProperties": False,
}

ORDERS_AVRO: dict[str, Any] = {
    "type": "record",
    "name": "orders",
    "namespace": "sluiceway.bronze",
    "doc": "One row of bronze.orders.",
    "fields": [
        {"name": "id", "type": "long", "aliases": ["order_id"]},
        {
            "name": "order_date",
            "type": ["null", {"type": "int", "logicalType": "date"}],
            "default": None,
            "sluiceway.column": "order date",
        },
        {
            "name": "amount",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2},
        },
        {
            "name": "customer",
            "type": [
                "null",
                {
                    "type": "record",
                    "name": "orders_customer",
                    "fields": [
                        {"name": "name", "type": "string"},
                        {"name": "vip", "type": ["null", "boolean"], "default": None},
                    ],
                },
            ],
            "default": None,
        },
        {
            "name": "tags",
            "type": ["null", {"type": "array", "items": ["null", "string"]}],
            "default": None,
        },
        {
            "name": "attributes",
            "type": ["null", {"type": "map", "values": ["null", "double"]}],
            "default": None,
        },
        {
            "name": "line_qty",
            "type": [
                "null",
                {
                    "type": "array",
                    "items": {
                        "type": "record",
                        "name": "orders_line_qty_entry",
                        "fields": [
                            {"name": "key", "type": "int"},
                            {"name": "value", "type": ["null", "int"], "default": None},
                        ],
                    },
                },
            ],
            "default": None,
        },
        {
            "name": "created_at",
            "type": {"type": "long", "logicalType": "timestamp-micros"},
        },
        {
            "name": "shipped_at",
            "type": ["null", {"type": "long", "logicalType": "local-timestamp-micros"}],
            "default": None,
        },
        {
            "name": "delivery_window",
            "type": [
                "null",
                {
                    "type": "record",
                    "name": "MonthDayNano",
                    "doc": "An Arrow month_day_nano interval; each part is signed.",
                    "fields": [
                        {"name": "months", "type": "int"},
                        {"name": "days", "type": "int"},
                        {"name": "nanoseconds", "type": "long"},
                    ],
                },
            ],
            "default": None,
        },
        {"name": "photo", "type": ["null", "bytes"], "default": None},
        {
            "name": "pickup",
            "type": ["null", {"type": "long", "logicalType": "time-micros"}],
            "default": None,
        },
        {"name": "notes", "type": "null", "default": None, "doc": UNRESOLVED_NOTE},
    ],
}

ORDER_ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "order date": dt.date(2024, 5, 31),
        "amount": Decimal("1234.50"),
        "customer": {"name": "Ada", "vip": True},
        "tags": ["gift", None],
        "attributes": [("weight", 1.5)],
        "line_qty": [(1, 3), (2, None)],
        "created_at": dt.datetime(2024, 5, 31, 13, 45, tzinfo=UTC),
        "shipped_at": dt.datetime(2024, 6, 1, 8, 0, 0, 123456),
        "delivery_window": (1, -2, 500_000_000),
        "photo": b"\x89PNG",
        "pickup": dt.time(13, 45, 0, 5),
        "notes": None,
    },
    {
        "id": -(2**63),
        "order date": None,
        "amount": Decimal("-9999999999.99"),
        "customer": None,
        "tags": None,
        "attributes": None,
        "line_qty": None,
        "created_at": dt.datetime(1970, 1, 1, tzinfo=UTC),
        "shipped_at": None,
        "delivery_window": None,
        "photo": None,
        "pickup": None,
        "notes": None,
    },
]

# The first row as JSON, written out by hand from the module docstring.
ORDER_JSON_ROW: dict[str, Any] = {
    "id": 1,
    "order date": "2024-05-31",
    "amount": "1234.50",
    "customer": {"name": "Ada", "vip": True},
    "tags": ["gift", None],
    "attributes": {"weight": 1.5},
    "line_qty": [{"key": 1, "value": 3}, {"key": 2, "value": None}],
    "created_at": "2024-05-31T13:45:00+00:00",
    "shipped_at": "2024-06-01T08:00:00.123456",
    "delivery_window": "P1M-2DT0.5S",
    "photo": "iVBORw==",
    "pickup": "13:45:00.000005",
    "notes": None,
}

# The first row as fastavro takes it, written out by hand from the module docstring.
ORDER_AVRO_ROW: dict[str, Any] = {
    "id": 1,
    "order_date": dt.date(2024, 5, 31),
    "amount": Decimal("1234.50"),
    "customer": {"name": "Ada", "vip": True},
    "tags": ["gift", None],
    "attributes": {"weight": 1.5},
    "line_qty": [{"key": 1, "value": 3}, {"key": 2, "value": None}],
    "created_at": dt.datetime(2024, 5, 31, 13, 45, tzinfo=UTC),
    "shipped_at": dt.datetime(2024, 6, 1, 8, 0, 0, 123456),
    "delivery_window": {"months": 1, "days": -2, "nanoseconds": 500_000_000},
    "photo": b"\x89PNG",
    "pickup": dt.time(13, 45, 0, 5),
    "notes": None,
}


def orders_table() -> pa.Table:
    return pa.Table.from_pylist(ORDER_ROWS, schema=ORDERS.to_arrow(unresolved_as=pa.null()))


def orders_json_schema() -> dict[str, Any]:
    return to_json_schema(
        ORDERS, title="orders", version=7, description="One row of bronze.orders."
    )


def orders_avro() -> dict[str, Any]:
    return to_avro(
        ORDERS,
        name="orders",
        namespace="sluiceway.bronze",
        aliases={"order_id": "id"},
        doc="One row of bronze.orders.",
    )


def test_json_schema_of_a_representative_table_is_exactly_the_golden_one() -> None:
    assert orders_json_schema() == ORDERS_JSON_SCHEMA
    assert list(orders_json_schema())[:2] == ["$schema", "title"]


def test_json_schema_leaves_out_version_and_description_when_not_given() -> None:
    exported = to_json_schema(ORDERS, title="orders")

    assert "x-sluiceway-version" not in exported
    assert "$comment" not in exported
    assert "description" not in exported
    assert exported["x-sluiceway-fingerprint"] == ORDERS.fingerprint


def test_avro_schema_of_a_representative_table_is_exactly_the_golden_one() -> None:
    assert orders_avro() == ORDERS_AVRO
    check_avro_spec(orders_avro())


def test_json_schema_accepts_real_rows_of_the_table() -> None:
    schema = orders_json_schema()
    rows = json_rows(orders_table())

    assert rows[0] == ORDER_JSON_ROW
    assert [json_errors(schema, row) for row in rows] == [set(), set()]


def test_json_schema_accepts_a_row_without_its_nullable_columns() -> None:
    row = {"id": 2, "amount": "0.10", "created_at": "2024-01-01T00:00:00Z"}

    assert json_errors(orders_json_schema(), row) == set()


def _with(changes: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(row: dict[str, Any]) -> dict[str, Any]:
        return {**row, **changes}

    return change


def _without(column: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(row: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in row.items() if key != column}

    return change


@pytest.mark.parametrize(
    ("change", "keyword"),
    [
        pytest.param(_with({"id": "1"}), "type", id="integer as text"),
        pytest.param(_with({"id": 1.5}), "type", id="integer with a fraction"),
        pytest.param(_with({"id": 2**63}), "maximum", id="integer beyond BIGINT"),
        pytest.param(_without("amount"), "required", id="required column missing"),
        pytest.param(_with({"created_at": None}), "type", id="non-nullable column null"),
        pytest.param(_with({"amount": 1234.5}), "type", id="decimal as a number"),
        pytest.param(_with({"amount": "1234.567"}), "pattern", id="decimal beyond its scale"),
        pytest.param(_with({"amount": "12345678901.00"}), "pattern", id="decimal beyond precision"),
        pytest.param(_with({"amount": "1.2E+3"}), "pattern", id="decimal in exponent form"),
        pytest.param(_with({"order date": "31/05/2024"}), "format", id="date not ISO"),
        pytest.param(_with({"order date": "2024-02-30"}), "format", id="date impossible"),
        pytest.param(
            _with({"created_at": "2024-05-31T13:45:00"}), "format", id="tz without offset"
        ),
        pytest.param(
            _with({"shipped_at": "2024-06-01T08:00:00+02:00"}), "pattern", id="naive with offset"
        ),
        pytest.param(_with({"pickup": "25:00:00"}), "pattern", id="time out of range"),
        pytest.param(_with({"delivery_window": "1 month"}), "pattern", id="interval not ISO"),
        pytest.param(_with({"photo": "not base64!"}), "pattern", id="binary not base64"),
        pytest.param(_with({"photo": [1, 2]}), "type", id="binary as numbers"),
        pytest.param(_with({"customer": {"vip": True}}), "required", id="struct field missing"),
        pytest.param(
            _with({"customer": {"name": "Ada", "age": 3}}),
            "additionalProperties",
            id="struct with an unknown field",
        ),
        pytest.param(_with({"tags": [1]}), "type", id="list item of the wrong type"),
        pytest.param(_with({"tags": "gift"}), "type", id="list as a scalar"),
        pytest.param(_with({"attributes": {"weight": "heavy"}}), "type", id="map value wrong type"),
        pytest.param(_with({"line_qty": {"1": 3}}), "type", id="non-text map as an object"),
        pytest.param(
            _with({"line_qty": [{"key": 1, "value": 40000}]}),
            "maximum",
            id="map value out of range",
        ),
        pytest.param(_with({"line_qty": [{"value": 1}]}), "required", id="map entry without key"),
        pytest.param(_with({"notes": "hello"}), "type", id="unresolved column with a value"),
        pytest.param(_with({"extra": 1}), "additionalProperties", id="column not in the table"),
    ],
)
def test_json_schema_rejects_rows_that_do_not_fit(
    change: Callable[[dict[str, Any]], dict[str, Any]], keyword: str
) -> None:
    errors = json_errors(orders_json_schema(), change(ORDER_JSON_ROW))

    assert keyword in errors


def test_avro_schema_round_trips_real_rows_of_the_table() -> None:
    avro = orders_avro()
    rows = avro_rows(orders_table(), avro)

    assert rows[0] == ORDER_AVRO_ROW
    assert avro_round_trip(avro, rows) == rows


def test_avro_writer_refuses_a_row_that_does_not_fit() -> None:
    row = {**ORDER_AVRO_ROW, "amount": Decimal("1.234")}  # scale 3 in a DECIMAL(12,2)

    with pytest.raises(ValueError, match="Scale"):
        avro_round_trip(orders_avro(), [row])


# -- Avro names --------------------------------------------------------------------------------


def test_invalid_column_names_are_sanitised_and_keep_their_original() -> None:
    schema = TableSchema(
        tuple(
            ColumnSchema(name, pa.int32(), nullable=False)
            for name in ["order date", "2nd", "café", "a_b", "a b", "A-B", "ok", "", "é"]
        )
    )

    fields = to_avro(schema, name="t")["fields"]

    assert [(f["name"], f.get("sluiceway.column")) for f in fields] == [
        ("order_date", "order date"),
        ("_2nd", "2nd"),
        ("cafe", "café"),
        ("a_b", None),
        ("a_b_2", "a b"),
        ("A_B_3", "A-B"),  # clashes compare case-insensitively
        ("ok", None),
        ("_", ""),
        ("e", "é"),
    ]
    check_avro_spec(to_avro(schema, name="t"))


def test_avro_name_keeps_valid_names_and_fixes_the_rest() -> None:
    assert avro_name("Valid_1") == "Valid_1"
    assert avro_name("1st") == "_1st"
    assert avro_name("naïve façade") == "naive_facade"
    assert avro_name("日付") == "__"


def test_rows_with_sanitised_names_round_trip() -> None:
    schema = TableSchema(
        (
            ColumnSchema("order date", pa.date32()),
            ColumnSchema("line", pa.struct([pa.field("unit price", pa.float64())])),
        )
    )
    table = pa.Table.from_pylist(
        [{"order date": dt.date(2024, 1, 2), "line": {"unit price": 2.5}}],
        schema=schema.to_arrow(),
    )
    avro = to_avro(schema, name="t")
    rows = avro_rows(table, avro)

    assert rows == [{"order_date": dt.date(2024, 1, 2), "line": {"unit_price": 2.5}}]
    assert avro_round_trip(avro, rows) == rows


def test_nested_record_names_are_unique_and_follow_column_order() -> None:
    inner = pa.struct([pa.field("c", pa.int32())])
    schema = TableSchema(
        (
            ColumnSchema("a", pa.struct([pa.field("b", inner)]), nullable=False),
            ColumnSchema("a_b", inner, nullable=False),
            ColumnSchema("items", pa.list_(pa.field("item", inner, nullable=False))),
            ColumnSchema("by_day", pa.map_(pa.date32(), inner), nullable=False),
        )
    )

    avro = to_avro(schema, name="t")
    a, a_b, items, by_day = avro["fields"]

    assert a["type"]["name"] == "t_a"
    assert a["type"]["fields"][0]["type"][1]["name"] == "t_a_b"
    assert a_b["type"]["name"] == "t_a_b_2"
    assert items["type"][1]["items"]["name"] == "t_items"
    entry = by_day["type"]["items"]
    assert entry["name"] == "t_by_day_entry"
    assert entry["fields"][1]["type"][1]["name"] == "t_by_day_entry_value"
    assert to_avro(schema, name="t") == avro  # deterministic
    check_avro_spec(avro)
    fastavro.parse_schema(avro)


def test_the_interval_record_is_defined_once_and_then_referenced() -> None:
    schema = TableSchema(
        (
            ColumnSchema("first", pa.month_day_nano_interval(), nullable=False),
            ColumnSchema("second", pa.list_(pa.month_day_nano_interval())),
        )
    )

    avro = to_avro(schema, name="MonthDayNano")  # the table name takes the record's name
    first, second = avro["fields"]

    assert first["type"]["name"] == "MonthDayNano_2"
    assert second["type"] == ["null", {"type": "array", "items": ["null", "MonthDayNano_2"]}]
    rows = [
        {
            "first": {"months": -1, "days": 2, "nanoseconds": -3},
            "second": [{"months": 0, "days": 0, "nanoseconds": 2**63 - 1}, None],
        }
    ]
    assert avro_round_trip(avro, rows) == rows


def test_renames_become_aliases_that_read_files_written_before_the_rename() -> None:
    before = TableSchema(
        (ColumnSchema("customer id", pa.int64()), ColumnSchema("total", pa.float64()))
    )
    after = TableSchema(
        (ColumnSchema("client_id", pa.int64()), ColumnSchema("total", pa.float64()))
    )
    old_file_rows = [{"customer_id": 7, "total": 1.5}]

    reader = to_avro(after, name="t", aliases={"customer id": "client_id"})
    read = avro_round_trip(to_avro(before, name="t"), old_file_rows, reader_schema=reader)

    assert reader["fields"][0]["aliases"] == ["customer_id"]
    assert read == [{"client_id": 7, "total": 1.5}]


def test_rename_chains_are_followed_and_stale_or_clashing_aliases_skipped() -> None:
    schema = TableSchema((ColumnSchema("c", pa.int32()), ColumnSchema("x", pa.int32())))
    aliases = {
        "a": "b",  # a -> b -> c
        "b": "C",  # targets match case-insensitively
        "old": "dropped",  # the column is gone
        "x": "c",  # x is a column again now: it cannot stand for c
        "loop1": "loop2",
        "loop2": "loop1",
    }

    c, x = to_avro(schema, name="t", aliases=aliases)["fields"]

    assert c["aliases"] == ["a", "b"]
    assert "aliases" not in x


@pytest.mark.parametrize(
    ("name", "namespace"),
    [("1table", None), ("my table", None), ("a.b", None), ("int", None), ("t", "a..b")],
)
def test_record_name_and_namespace_must_be_valid_avro_names(
    name: str, namespace: str | None
) -> None:
    with pytest.raises(ValueError, match="not a valid Avro"):
        to_avro(ORDERS, name=name, namespace=namespace)


# -- property: random schemas export valid schemas that fit random rows ------------------------

_NAME_CHARS = st.sampled_from("abAB_1 -é")
names = st.text(_NAME_CHARS, min_size=1, max_size=5)


def _decimals(precision: int, scale: int) -> st.SearchStrategy[Decimal]:
    # From the unscaled integer, scaled in a context wide enough to be exact: st.decimals (and
    # any arithmetic in the default 28-digit context) rounds 38 nines up to 1E+38.
    exact = Context(prec=precision)
    limit = 10**precision - 1
    return st.integers(-limit, limit).map(lambda n: Decimal(n).scaleb(-scale, exact))


SCALARS: dict[pa.DataType, st.SearchStrategy[Any]] = {
    pa.bool_(): st.booleans(),
    pa.int8(): st.integers(-(2**7), 2**7 - 1),
    pa.int16(): st.integers(-(2**15), 2**15 - 1),
    pa.int32(): st.integers(-(2**31), 2**31 - 1),
    pa.int64(): st.integers(-(2**63), 2**63 - 1),
    pa.uint8(): st.integers(0, 2**8 - 1),
    pa.uint16(): st.integers(0, 2**16 - 1),
    pa.uint32(): st.integers(0, 2**32 - 1),
    pa.uint64(): st.integers(0, 2**64 - 1),
    pa.float32(): st.floats(width=32, allow_nan=False, allow_infinity=False),
    pa.float64(): st.floats(allow_nan=False, allow_infinity=False),
    pa.string(): st.text(max_size=5),
    pa.binary(): st.binary(max_size=5),
    pa.date32(): st.dates(),
    pa.time64("us"): st.times(),
    pa.timestamp("us"): st.datetimes(),
    pa.timestamp("us", tz="UTC"): st.datetimes(timezones=st.just(UTC)),
    pa.month_day_nano_interval(): st.tuples(
        st.integers(-(2**31), 2**31 - 1),
        st.integers(-(2**31), 2**31 - 1),
        st.integers(-(2**63), 2**63 - 1),
    ),
    pa.decimal128(38, 0): _decimals(38, 0),
    pa.decimal128(12, 2): _decimals(12, 2),
    pa.decimal128(4, 4): _decimals(4, 4),
}
MAP_KEYS = [pa.string(), pa.int32(), pa.date32()]


def _nested(inner: st.SearchStrategy[pa.DataType]) -> st.SearchStrategy[pa.DataType]:
    members = st.lists(st.tuples(names, inner, st.booleans()), min_size=1, max_size=3).filter(
        lambda fields: len({name for name, _, _ in fields}) == len(fields)
    )
    return st.one_of(
        st.tuples(inner, st.booleans()).map(
            lambda item: pa.list_(pa.field("item", item[0], nullable=item[1]))
        ),
        members.map(lambda fields: pa.struct([pa.field(n, t, nullable=b) for n, t, b in fields])),
        st.tuples(st.sampled_from(MAP_KEYS), inner, st.booleans()).map(
            lambda kv: pa.map_(kv[0], pa.field("value", kv[1], nullable=kv[2]))
        ),
    )


arrow_types = st.recursive(st.sampled_from(list(SCALARS)), _nested, max_leaves=6)


@st.composite
def table_schemas(draw: st.DrawFn) -> TableSchema:
    columns = draw(
        st.lists(
            st.tuples(names, st.one_of(st.none(), arrow_types), st.booleans()),
            min_size=1,
            max_size=5,
            unique_by=lambda column: column[0].lower(),
        )
    )
    # Arrow has no non-nullable null column, so unresolved columns are always nullable.
    return TableSchema(
        tuple(ColumnSchema(n, t, nullable or t is None) for n, t, nullable in columns)
    )


def values(arrow: pa.DataType | None, nullable: bool) -> st.SearchStrategy[Any]:
    if arrow is None:
        return st.none()
    present = _present_values(arrow)
    return st.one_of(st.none(), present) if nullable else present


def _present_values(arrow: pa.DataType) -> st.SearchStrategy[Any]:
    if pa.types.is_list(arrow):
        item = arrow.value_field
        return st.lists(values(item.type, item.nullable), max_size=3)
    if pa.types.is_struct(arrow):
        return st.fixed_dictionaries({f.name: values(f.type, f.nullable) for f in arrow})
    if pa.types.is_map(arrow):
        item = arrow.item_field
        return st.lists(
            st.tuples(SCALARS[arrow.key_type], values(item.type, item.nullable)),
            max_size=3,
            unique_by=lambda entry: entry[0],
        )
    return SCALARS[arrow]


def rows_of(schema: TableSchema) -> st.SearchStrategy[list[dict[str, Any]]]:
    row = st.fixed_dictionaries({c.name: values(c.type, c.nullable) for c in schema})
    return st.lists(row, min_size=1, max_size=3)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_schemas_export_valid_schemas_that_accept_their_rows(data: st.DataObject) -> None:
    schema = data.draw(table_schemas(), label="schema")
    table = pa.Table.from_pylist(
        data.draw(rows_of(schema), label="rows"), schema=schema.to_arrow(unresolved_as=pa.null())
    )

    json_schema = to_json_schema(schema, title="t", version=1)
    avro = to_avro(schema, name="t", namespace="sluiceway.test")

    jsonschema.Draft202012Validator.check_schema(json_schema)
    fastavro.parse_schema(avro)
    check_avro_spec(avro)
    rows = json_rows(table)
    assert [json_errors(json_schema, row) for row in rows] == [set()] * len(rows)
    required = [c.name for c in schema if not c.nullable]
    if required:
        assert "required" in json_errors(json_schema, _without(required[0])(rows[0]))
    assert json_errors(json_schema, {**rows[0], "not a column": 1}) != set()
    records = avro_rows(table, avro)
    assert avro_round_trip(avro, records) == records
