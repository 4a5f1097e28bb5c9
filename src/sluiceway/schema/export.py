"""Export a table schema version as JSON Schema (draft 2020-12) or as an Avro record schema.

Both describe **one row** of the table, so a consumer can validate JSON rows or read and write
Avro files of the table without asking Sluiceway. Columns keep table order.

Type mapping (the SQL spelling in brackets is what :mod:`sluiceway.core.sql_types` produces;
the value column says what a row holds: JSON text for JSON Schema, the Python value fastavro
writes and reads for Avro):

===================  ==================================  ====================================
Arrow type (SQL)     JSON Schema: JSON value             Avro: Python value
===================  ==================================  ====================================
int8, int16, int32   ``integer``, the width's exact      ``int``
(TINYINT..INTEGER)   ``minimum`` and ``maximum``
int64 (BIGINT)       ``integer``, -2**63 .. 2**63-1      ``long``
uint8, uint16        ``integer``, 0 .. 2**bits-1         ``int``
uint32 (UINTEGER)    ``integer``, 0 .. 2**32-1           ``long``
uint64 (UBIGINT)     ``integer``, 0 .. 2**64-1           ``bytes`` decimal(20,0): ``Decimal``
float16/32 (FLOAT)   ``number``                          ``float``
float64 (DOUBLE)     ``number``                          ``double``
decimal(p,s)         ``string``, fixed-point text        ``bytes`` decimal(p,s): ``Decimal``
(DECIMAL(p,s))       ``"-12.30"``, ``pattern``
string (VARCHAR,     ``string``                          ``string``
JSON, UUID)
bool (BOOLEAN)       ``boolean``                         ``boolean``
binary (BLOB)        ``string``, base64:                 ``bytes``
                     ``contentEncoding``, ``pattern``
date (DATE)          ``string``, ``format: date``,       ``int`` date: ``date``
                     ``"2024-05-31"``
time (TIME)          ``string``, ``pattern``,            ``long`` time-micros: ``time``
                     ``"13:45:00.123456"``
timestamp            ``string``, ``pattern``, no         ``long`` local-timestamp-micros:
(TIMESTAMP)          offset: ``"2024-05-31T13:45:00"``   naive ``datetime``
timestamp with zone  ``string``, ``format: date-time``,  ``long`` timestamp-micros:
(TIMESTAMPTZ)        ``"2024-05-31T13:45:00+00:00"``     aware ``datetime``
interval, duration   ``string``, ``pattern``, ISO 8601   record ``MonthDayNano`` {``months``
(INTERVAL)           duration ``"P1M-2DT0.5S"``          int, ``days`` int, ``nanoseconds``
                                                         long}: ``dict``
list<T> (T[])        ``array``, ``items`` T              ``array``, ``items`` T: ``list``
struct (STRUCT)      ``object``: ``properties``,         record ``<parent>_<field>``:
                     ``required`` (non-nullable          ``dict``
                     fields), no other properties
map<text, V> (MAP)   ``object``,                         ``map``, ``values`` V: ``dict``
                     ``additionalProperties`` V
map<K, V>, K not     ``array`` of objects                ``array`` of record
text (MAP)           ``{"key": K, "value": V}``          ``<parent>_<field>_entry`` {``key``,
                                                         ``value``}: ``list`` of ``dict``
unresolved (None)    ``{"type": "null"}``, description   ``"null"``, ``doc``
===================  ==================================  ====================================

Also accepted: ``large_string``/``string_view`` (string), ``large_binary``/``binary_view``/
``fixed_size_binary`` (binary), ``date64``, ``time32``, large, fixed-size and view lists (a
fixed size also sets ``minItems``/``maxItems``), dictionaries (their value type) and Arrow's
``null`` type. Anything else (unions, extension types) raises :class:`SchemaError`.

Nullability: a nullable column (or struct field, list item, map value) accepts ``null`` --
``"type": [T, "null"]`` in JSON Schema, the union ``["null", T]`` with ``"default": null`` in
Avro. Non-nullable columns and struct fields are ``required`` in JSON Schema; nullable ones
may also be left out of a JSON row.

Decisions, where the obvious mapping would lose data or reject real rows:

- **Decimals are JSON strings**, not numbers: a JSON parser reads numbers as doubles, which
  hold 15-17 significant digits while DECIMAL(38,s) holds 38, and ``multipleOf: 0.01`` fails
  on binary floating point (``0.07 / 0.01`` is not an integer) in common validators. The text
  is fixed-point (``format(value, "f")``, never ``"1E-8"``), and the ``pattern`` checks both
  precision and scale: at most ``p - s`` integer digits and ``s`` fraction digits.
- **TIME and naive TIMESTAMP use a pattern, not a format**: JSON Schema's ``time`` and
  ``date-time`` formats are RFC 3339, which requires a UTC offset; a wall-clock time has none,
  and inventing ``Z`` would misstate it. The text is what ``isoformat()`` writes: ``T`` between
  date and time, up to 9 fraction digits. TIMESTAMPTZ values carry their offset and use
  ``format: date-time``.
- **Intervals**: Arrow's interval has signed months, days and nanoseconds. Avro's ``duration``
  logical type holds unsigned months, days and *milliseconds*, so it would drop negative and
  sub-millisecond intervals; the ``MonthDayNano`` record holds Arrow's value exactly (defined
  once, then referenced by name). In JSON the value is an ISO 8601 duration whose components
  may each carry a sign, as PostgreSQL's ``iso_8601`` style writes it: ``P<months>M<days>DT
  <seconds>S`` with up to 9 fraction digits of seconds; the pattern accepts any ISO 8601
  duration of that shape (``Y``/``W``/``H`` components too). Arrow durations use the same
  shapes with months and days 0.
- **Avro time and timestamps are micros**: fastavro (and many readers) know no ``-nanos``
  logical types and Python's ``time``/``datetime`` stop at microseconds, so TIME(ns) and
  TIMESTAMP_NS values lose their sub-microsecond digits when written.
- **64-bit integers stay JSON integers**: exact in Python, Java and Go; JavaScript's
  ``JSON.parse`` rounds values beyond 2**53.
- NaN and infinities have no JSON representation; a FLOAT/DOUBLE column holding them cannot be
  written as a JSON row. A map with repeated keys cannot be a JSON object or an Avro map.

Avro names: a column or struct field whose name is not a valid Avro name (``[A-Za-z_]
[A-Za-z0-9_]*``) gets a sanitised one -- accents stripped, every other character outside the
set becomes ``_``, a leading digit gets a ``_`` prefix, and ``_2``, ``_3``... on a clash
(clashes compare case-insensitively because many Avro consumers do) -- and the original name
goes into the field's ``"sluiceway.column"`` property. It does not go into ``aliases``: aliases
are names too and must obey the same rule. Nested records are named ``<parent>_<field>``
(entries of non-text maps ``<parent>_<field>_entry``), numbered on a clash, so names are
unique and follow column order. ``aliases`` (old column name -> current name, as the registry
records renames) puts the sanitised old names in the current field's ``aliases``, so a reader
with this schema resolves files written before the rename; chains (``a -> b -> c``) are
followed, names of current columns and renames to columns that no longer exist are skipped.

>>> import pyarrow as pa
>>> from sluiceway.schema.model import ColumnSchema, TableSchema
>>> table = TableSchema((ColumnSchema("id", pa.int64(), nullable=False),))
>>> to_json_schema(table, title="orders")["properties"]
{'id': {'type': 'integer', 'minimum': -9223372036854775808, 'maximum': 9223372036854775807}}
>>> to_avro(table, name="orders")["fields"]
[{'name': 'id', 'type': 'long'}]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pyarrow as pa

from sluiceway.core.errors import Location, SchemaError
from sluiceway.schema.model import TableSchema

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
UNRESOLVED_NOTE = (
    "Unresolved: only NULL values have been loaded so far, so the column has no type yet; "
    "it accepts only null."
)
ORIGINAL_NAME_PROPERTY = "sluiceway.column"
INTERVAL_RECORD = "MonthDayNano"

# Regular expressions use only what ECMA-262 and Python's re agree on ([0-9], not \d).
_DATE = r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?"
TIME_PATTERN = f"^{_TIME}$"
LOCAL_TIMESTAMP_PATTERN = f"^{_DATE}T{_TIME}$"
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
DURATION_PATTERN = (
    r"^-?P(?=[-0-9T])(?:-?[0-9]+Y)?(?:-?[0-9]+M)?(?:-?[0-9]+W)?(?:-?[0-9]+D)?"
    r"(?:T(?=-?[0-9])(?:-?[0-9]+H)?(?:-?[0-9]+M)?(?:-?[0-9]+(?:\.[0-9]{1,9})?S)?)?$"
)

_AVRO_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_AVRO_PRIMITIVES = frozenset(
    {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
)
_NO_ALIASES: Mapping[str, str] = MappingProxyType({})

_TEXT: tuple[Callable[[pa.DataType], bool], ...] = (
    pa.types.is_string,
    pa.types.is_large_string,
    pa.types.is_string_view,
)
_BINARY: tuple[Callable[[pa.DataType], bool], ...] = (
    pa.types.is_binary,
    pa.types.is_large_binary,
    pa.types.is_binary_view,
    pa.types.is_fixed_size_binary,
)
_LIST: tuple[Callable[[pa.DataType], bool], ...] = (
    pa.types.is_list,
    pa.types.is_large_list,
    pa.types.is_fixed_size_list,
    pa.types.is_list_view,
    pa.types.is_large_list_view,
)


def _is(arrow: pa.DataType, predicates: Iterable[Callable[[pa.DataType], bool]]) -> bool:
    return any(predicate(arrow) for predicate in predicates)


def _is_interval(arrow: pa.DataType) -> bool:
    return bool(pa.types.is_interval(arrow) or pa.types.is_duration(arrow))


def _plain(arrow: pa.DataType) -> pa.DataType:
    """A dictionary's value type; every other type as it is."""
    return arrow.value_type if pa.types.is_dictionary(arrow) else arrow


def _is_text(arrow: pa.DataType) -> bool:
    return _is(_plain(arrow), _TEXT)


def _integer_range(arrow: pa.DataType) -> tuple[int, int]:
    bits = int(arrow.bit_width)
    if pa.types.is_unsigned_integer(arrow):
        return 0, 2**bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def decimal_pattern(precision: int, scale: int) -> str:
    """The pattern of DECIMAL(precision, scale) as fixed-point text.

    >>> decimal_pattern(5, 2)
    '^-?[0-9]{1,3}(?:\\\\.[0-9]{1,2})?$'
    """
    # Arrow allows scale > precision: then only a fraction, 0.000xx
    whole = "0" if scale >= precision else f"[0-9]{{1,{precision - scale}}}"
    fraction = f"(?:\\.[0-9]{{1,{scale}}})?" if scale > 0 else ""
    return f"^-?{whole}{fraction}$"


def _unsupported(arrow: pa.DataType, path: tuple[str, ...], target: str) -> SchemaError:
    return SchemaError(
        f"Arrow type {arrow} has no {target} equivalent",
        hint="Export a schema whose columns use SQL types (see sluiceway.core.sql_types); "
        "cast this column to one of them first.",
        location=Location(column=path[0], field=".".join(path) if len(path) > 1 else None),
    )


def _check_struct_names(arrow: pa.DataType, path: tuple[str, ...]) -> None:
    names = [child.name for child in arrow]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise SchemaError(
            f"struct has more than one field named {repeated[0]!r}",
            hint="Rename the struct fields so that each name is used once.",
            location=Location(column=path[0], field=".".join(path) if len(path) > 1 else None),
        )


# -- JSON Schema -------------------------------------------------------------------------------


def to_json_schema(
    schema: TableSchema,
    *,
    title: str,
    version: int | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) that one row of the table, as a JSON object, satisfies.

    ``version`` is the registry's version number; it goes into ``x-sluiceway-version`` and
    ``$comment``. ``x-sluiceway-fingerprint`` is the schema's fingerprint, which identifies
    the columns, types and nullability whatever the version number. See the module docstring
    for the type mapping and the JSON form of each value.
    """
    document: dict[str, Any] = {"$schema": JSON_SCHEMA_DIALECT, "title": title}
    if description is not None:
        document["description"] = description
    if version is not None:
        document["$comment"] = f"Sluiceway table schema version {version}."
        document["x-sluiceway-version"] = version
    document["x-sluiceway-fingerprint"] = schema.fingerprint
    properties: dict[str, Any] = {}
    for column in schema:
        if column.type is None:
            properties[column.name] = {"type": "null", "description": UNRESOLVED_NOTE}
        else:
            properties[column.name] = _json_value(column.type, column.nullable, (column.name,))
    document["type"] = "object"
    document["properties"] = properties
    document["required"] = [column.name for column in schema if not column.nullable]
    document["additionalProperties"] = False
    return document


def _json_value(arrow: pa.DataType, nullable: bool, path: tuple[str, ...]) -> dict[str, Any]:
    described = _json_type(_plain(arrow), path)
    if not nullable or described["type"] == "null":
        return described
    return {**described, "type": [described["type"], "null"]}


def _is_binary(arrow: pa.DataType) -> bool:
    return _is(arrow, _BINARY)


# Types whose JSON Schema does not depend on parameters; the first predicate that holds wins.
_JSON_SIMPLE: tuple[tuple[Callable[[pa.DataType], bool], Mapping[str, Any]], ...] = (
    (pa.types.is_null, {"type": "null"}),
    (pa.types.is_boolean, {"type": "boolean"}),
    (pa.types.is_floating, {"type": "number"}),
    (_is_text, {"type": "string"}),
    (_is_binary, {"type": "string", "contentEncoding": "base64", "pattern": BASE64_PATTERN}),
    (pa.types.is_date, {"type": "string", "format": "date"}),
    (pa.types.is_time, {"type": "string", "pattern": TIME_PATTERN}),
    (_is_interval, {"type": "string", "pattern": DURATION_PATTERN}),
)


def _json_type(arrow: pa.DataType, path: tuple[str, ...]) -> dict[str, Any]:
    for predicate, described in _JSON_SIMPLE:
        if predicate(arrow):
            return dict(described)
    if pa.types.is_integer(arrow):
        low, high = _integer_range(arrow)
        return {"type": "integer", "minimum": low, "maximum": high}
    if pa.types.is_decimal(arrow):
        return {"type": "string", "pattern": decimal_pattern(arrow.precision, arrow.scale)}
    if pa.types.is_timestamp(arrow):
        if arrow.tz:
            return {"type": "string", "format": "date-time"}
        return {"type": "string", "pattern": LOCAL_TIMESTAMP_PATTERN}
    if _is(arrow, _LIST):
        item = arrow.value_field
        described = {"type": "array", "items": _json_value(item.type, item.nullable, path)}
        if pa.types.is_fixed_size_list(arrow):
            described["minItems"] = described["maxItems"] = arrow.list_size
        return described
    if pa.types.is_struct(arrow):
        return _json_struct(arrow, path)
    if pa.types.is_map(arrow):
        return _json_map(arrow, path)
    raise _unsupported(arrow, path, "JSON Schema")


def _json_struct(arrow: pa.DataType, path: tuple[str, ...]) -> dict[str, Any]:
    _check_struct_names(arrow, path)
    return {
        "type": "object",
        "properties": {
            child.name: _json_value(child.type, child.nullable, (*path, child.name))
            for child in arrow
        },
        "required": [child.name for child in arrow if not child.nullable],
        "additionalProperties": False,
    }


def _json_map(arrow: pa.DataType, path: tuple[str, ...]) -> dict[str, Any]:
    item = arrow.item_field
    value = _json_value(item.type, item.nullable, (*path, "value"))
    if _is_text(arrow.key_type):
        return {"type": "object", "additionalProperties": value}
    key = _json_value(arrow.key_type, False, (*path, "key"))
    return {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"key": key, "value": value},
            "required": ["key"] if item.nullable else ["key", "value"],
            "additionalProperties": False,
        },
    }


# -- Avro --------------------------------------------------------------------------------------


def avro_name(text: str) -> str:
    """``text`` made into a valid Avro name (before clashes are numbered).

    >>> avro_name("order date"), avro_name("2nd"), avro_name("café"), avro_name("ok_1")
    ('order_date', '_2nd', 'cafe', 'ok_1')
    """
    if _AVRO_NAME.fullmatch(text):
        return text
    characters = [
        character if character.isascii() and (character.isalnum() or character == "_") else "_"
        for character in unicodedata.normalize("NFKD", text)
        if not unicodedata.combining(character)
    ]
    name = "".join(characters)
    return name if name and not name[0].isdigit() else f"_{name}"


def _avro_field_names(names: list[str]) -> list[str]:
    """Valid names as they are; the others sanitised, numbered where they would clash."""
    taken = {name.lower() for name in names if _AVRO_NAME.fullmatch(name)}
    result: list[str] = []
    for name in names:
        if _AVRO_NAME.fullmatch(name):
            result.append(name)
            continue
        base = candidate = avro_name(name)
        number = 2
        while candidate.lower() in taken:
            candidate = f"{base}_{number}"
            number += 1
        taken.add(candidate.lower())
        result.append(candidate)
    return result


def _check_avro_names(name: str, namespace: str | None) -> None:
    if not _AVRO_NAME.fullmatch(name) or name in _AVRO_PRIMITIVES:
        raise ValueError(
            f"record name {name!r} is not a valid Avro name: use letters, digits and _, "
            "not starting with a digit, and not a primitive type name (put dotted parts in "
            "namespace=)"
        )
    if namespace and not all(_AVRO_NAME.fullmatch(part) for part in namespace.split(".")):
        raise ValueError(
            f"namespace {namespace!r} is not a valid Avro namespace: dot-separated names of "
            "letters, digits and _, none starting with a digit"
        )


def to_avro(
    schema: TableSchema,
    *,
    name: str,
    namespace: str | None = None,
    aliases: Mapping[str, str] = _NO_ALIASES,
    doc: str | None = None,
) -> dict[str, Any]:
    """An Avro record schema with one field per column, in table order.

    ``name`` is the record's simple name (no dots; put those in ``namespace``); an invalid name
    raises :class:`ValueError`. ``aliases`` maps old column names to current ones (renames);
    the old names become the current fields' Avro ``aliases``. See the module docstring for
    the type mapping, the Python value fastavro expects for each type, and how names that are
    not valid Avro names are handled.
    """
    _check_avro_names(name, namespace)
    builder = _AvroBuilder(taken={name.lower()})
    field_names = _avro_field_names(schema.names)
    renamed = _renamed(schema, aliases, field_names)
    fields: list[dict[str, Any]] = []
    for column, field_name in zip(schema, field_names, strict=True):
        described = builder.field(
            column.name,
            field_name,
            column.type,
            nullable=column.nullable,
            record=name,
            path=(column.name,),
        )
        old_names = renamed.get(column.name.lower())
        if old_names:
            described["aliases"] = old_names
        if column.type is None:
            described["doc"] = UNRESOLVED_NOTE
        fields.append(described)
    record: dict[str, Any] = {"type": "record", "name": name}
    if namespace:
        record["namespace"] = namespace
    if doc is not None:
        record["doc"] = doc
    record["fields"] = fields
    return record


def _renamed(
    schema: TableSchema, aliases: Mapping[str, str], field_names: list[str]
) -> dict[str, list[str]]:
    """Current column (lower case) -> Avro names of its old names, in ``aliases`` order."""
    forward = {old.lower(): new for old, new in aliases.items()}
    in_use = {field_name.lower() for field_name in field_names}
    result: dict[str, list[str]] = {}
    for old in aliases:
        if old in schema:  # a current column's name cannot also stand for another column
            continue
        target, seen = forward[old.lower()], {old.lower()}
        while target not in schema and target.lower() in forward and target.lower() not in seen:
            seen.add(target.lower())
            target = forward[target.lower()]
        column = schema.get(target)
        alias = avro_name(old)
        if column is None or alias.lower() in in_use:
            continue
        names = result.setdefault(column.name.lower(), [])
        if alias not in names:
            names.append(alias)
    return result


# Types whose Avro schema does not depend on parameters; the first predicate that holds wins.
_AVRO_SIMPLE: tuple[tuple[Callable[[pa.DataType], bool], str | Mapping[str, Any]], ...] = (
    (pa.types.is_null, "null"),
    (pa.types.is_boolean, "boolean"),
    (pa.types.is_float64, "double"),
    (pa.types.is_floating, "float"),
    (_is_text, "string"),
    (_is_binary, "bytes"),
    (pa.types.is_date, {"type": "int", "logicalType": "date"}),
    (pa.types.is_time, {"type": "long", "logicalType": "time-micros"}),
)


def _avro_integer(arrow: pa.DataType) -> Any:
    low, high = _integer_range(arrow)
    if low >= -(2**31) and high < 2**31:
        return "int"
    if low >= -(2**63) and high < 2**63:
        return "long"
    return _avro_decimal(20, 0)  # uint64: no Avro integer holds 2**64-1


def _avro_decimal(precision: int, scale: int) -> dict[str, Any]:
    return {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}


@dataclass
class _AvroBuilder:
    """Builds Avro types, keeping record names unique (case-insensitively) across the schema."""

    taken: set[str]
    interval_name: str | None = None

    def reserve(self, wanted: str) -> str:
        candidate, number = wanted, 2
        while candidate.lower() in self.taken:
            candidate = f"{wanted}_{number}"
            number += 1
        self.taken.add(candidate.lower())
        return candidate

    def field(
        self,
        original: str,
        field_name: str,
        arrow: pa.DataType | None,
        *,
        nullable: bool,
        record: str,
        path: tuple[str, ...],
    ) -> dict[str, Any]:
        """One record field; ``record`` is the enclosing record's name, for nested names."""
        described: dict[str, Any] = {"name": field_name}
        if arrow is None:
            described["type"] = "null"
        else:
            described["type"] = self.value(arrow, nullable, f"{record}_{field_name}", path)
        if nullable:
            described["default"] = None
        if original != field_name:
            described[ORIGINAL_NAME_PROPERTY] = original
        return described

    def value(self, arrow: pa.DataType, nullable: bool, base: str, path: tuple[str, ...]) -> Any:
        """The Avro type of a value; ``base`` is the name a record here would take."""
        described = self.plain_type(_plain(arrow), base, path)
        return ["null", described] if nullable and described != "null" else described

    def plain_type(self, arrow: pa.DataType, base: str, path: tuple[str, ...]) -> Any:
        for predicate, described in _AVRO_SIMPLE:
            if predicate(arrow):
                return described if isinstance(described, str) else dict(described)
        if pa.types.is_integer(arrow):
            return _avro_integer(arrow)
        if pa.types.is_decimal(arrow):
            return _avro_decimal(arrow.precision, arrow.scale)
        if pa.types.is_timestamp(arrow):
            logical = "timestamp-micros" if arrow.tz else "local-timestamp-micros"
            return {"type": "long", "logicalType": logical}
        if _is_interval(arrow):
            return self.interval()
        if _is(arrow, _LIST):
            item = arrow.value_field
            return {"type": "array", "items": self.value(item.type, item.nullable, base, path)}
        if pa.types.is_struct(arrow):
            return self.struct(arrow, base, path)
        if pa.types.is_map(arrow):
            return self.map(arrow, base, path)
        raise _unsupported(arrow, path, "Avro")

    def struct(self, arrow: pa.DataType, base: str, path: tuple[str, ...]) -> dict[str, Any]:
        _check_struct_names(arrow, path)
        record = self.reserve(base)
        names = _avro_field_names([child.name for child in arrow])
        fields = [
            self.field(
                child.name,
                child_name,
                child.type,
                nullable=child.nullable,
                record=record,
                path=(*path, child.name),
            )
            for child, child_name in zip(arrow, names, strict=True)
        ]
        return {"type": "record", "name": record, "fields": fields}

    def map(self, arrow: pa.DataType, base: str, path: tuple[str, ...]) -> dict[str, Any]:
        item = arrow.item_field
        if _is_text(arrow.key_type):
            values = self.value(item.type, item.nullable, base, (*path, "value"))
            return {"type": "map", "values": values}
        entry = self.reserve(f"{base}_entry")
        key = self.field(
            "key", "key", arrow.key_type, nullable=False, record=entry, path=(*path, "key")
        )
        value = self.field(
            "value",
            "value",
            item.type,
            nullable=item.nullable,
            record=entry,
            path=(*path, "value"),
        )
        return {"type": "array", "items": {"type": "record", "name": entry, "fields": [key, value]}}

    def interval(self) -> Any:
        """The interval record: defined where first used, referenced by name after that."""
        if self.interval_name is not None:
            return self.interval_name
        self.interval_name = self.reserve(INTERVAL_RECORD)
        return {
            "type": "record",
            "name": self.interval_name,
            "doc": "An Arrow month_day_nano interval; each part is signed.",
            "fields": [
                {"name": "months", "type": "int"},
                {"name": "days", "type": "int"},
                {"name": "nanoseconds", "type": "long"},
            ],
        }
