"""PostgreSQL result columns as Arrow types, decided from the cursor's description.

=============================================  ==============================  ====================
PostgreSQL                                     Arrow                           notes
=============================================  ==============================  ====================
``boolean``                                    ``bool``
``smallint``, ``integer``, ``bigint``          ``int16``, ``int32``, ``int64``
``oid``                                        ``int64``
``real``, ``double precision``                 ``float32``, ``float64``        NaN stays NaN
``numeric(p,s)``, p ≤ 38 / p ≤ 76              ``decimal128``/``decimal256``   NaN, ±Infinity → NULL
``numeric`` (no precision)                     ``string``                      exact decimal text
``text``, ``varchar``, ``char``, ``name``      ``string``
``json``, ``jsonb``, ``uuid``, enums           ``string``                      the text form
``interval``, ``inet``, ``money``, ranges, …   ``string``                      the text form ¹
``bytea``                                      ``binary``
``date``                                       ``date32``                      ² → NULL
``timestamp``                                  ``timestamp[us]``               ² → NULL
``timestamp with time zone``                   ``timestamp[us, tz=UTC]``       ² → NULL
``time``                                       ``time64[us]``                  ``24:00:00`` → NULL
arrays of any of these                         ``list<…>``                     one dimension ³
=============================================  ==============================  ====================

¹ Under the settings the reader pins (``IntervalStyle=iso_8601``: ``P1DT2H``), as the change
reader (:mod:`sluiceway.cdc.pg_types`) writes them, so both sources agree.
² ``infinity``, ``-infinity``, BC dates and years after 9999 have no Python/Arrow value. Values
that become NULL are counted in the run report.
³ A multi-dimensional array value stops the read with the column's name.

A domain column arrives as its base type (PostgreSQL describes it so); an array of a domain or
enum is resolved through ``pg_type``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg
import pyarrow as pa
from psycopg import postgres
from psycopg.abc import AdaptContext, Buffer
from psycopg.adapt import Loader
from psycopg.pq import Format
from psycopg.types import TypeInfo, TypesRegistry
from psycopg.types.array import register_array
from psycopg.types.string import TextLoader

from sluiceway.sources.sql.arrow_rows import ColumnPlan

_DECIMAL128_MAX = 38
_DECIMAL256_MAX = 76

_NATIVE: dict[str, pa.DataType] = {
    "bool": pa.bool_(),
    "int2": pa.int16(),
    "int4": pa.int32(),
    "int8": pa.int64(),
    "oid": pa.int64(),
    "float4": pa.float32(),
    "float8": pa.float64(),
    "text": pa.string(),
    "varchar": pa.string(),
    "bpchar": pa.string(),
    "name": pa.string(),
    "char": pa.string(),
    "bytea": pa.binary(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "time": pa.time64("us"),
}
_LENIENT = frozenset({"date", "timestamp", "timestamptz", "time"})  # DataError → NULL
_NUMERIC = "numeric"


@dataclass(frozen=True, slots=True)
class PgType:
    """A type the driver does not know (an enum, a domain's array), as ``pg_type`` has it."""

    oid: int
    name: str
    element_oid: int | None = None  # arrays: the element's (base) type
    element_name: str | None = None


class NullCount:
    """Values a lenient loader turned into NULL."""

    def __init__(self) -> None:
        self.nulled = 0


@dataclass
class Adaptation:
    """What the reading cursor must register so values arrive as the plans expect."""

    text: set[int] = field(default_factory=set)  # read as their text form
    lenient: set[int] = field(default_factory=set)  # dates and times: out of range → None
    arrays: list[TypeInfo] = field(default_factory=list)  # arrays the driver does not know

    def apply(self, cursor: psycopg.Cursor[Any], count: NullCount) -> None:
        adapters = cursor.adapters
        for oid in self.text:
            adapters.register_loader(oid, TextLoader)
        for oid in self.lenient:
            adapters.register_loader(oid, _lenient(oid, count))
        for info in self.arrays:
            register_array(info, cursor)


def _lenient(oid: int, count: NullCount) -> type[Loader]:
    inner = postgres.adapters.get_loader(oid, Format.TEXT)
    if inner is None:  # pragma: no cover - every lenient type has a built-in loader
        raise LookupError(f"no loader for type oid {oid}")
    base = inner

    class Lenient(Loader):
        def __init__(self, oid: int, context: AdaptContext | None = None) -> None:
            super().__init__(oid, context)
            self._inner = base(oid, context)

        def load(self, data: Buffer) -> Any:
            try:
                return self._inner.load(data)
            except psycopg.DataError:  # infinity, BC, year 10000+, 24:00:00
                count.nulled += 1
                return None

    return Lenient


def _finite(text: Any) -> Any:
    try:
        return text if Decimal(str(text)).is_finite() else None
    except InvalidOperation:
        return None


def _finite_items(items: Any) -> Any:
    return [None if item is None else _finite(item) for item in items]


def _decimal(precision: int | None, scale: int | None) -> pa.DataType | None:
    if precision is None or scale is None or not 0 <= scale <= precision:
        return None  # unbounded, or PostgreSQL 15's negative scales
    if precision <= _DECIMAL128_MAX:
        return pa.decimal128(precision, scale)
    if precision <= _DECIMAL256_MAX:
        return pa.decimal256(precision, scale)
    return None


def _scalar(
    name: str, oid: int, precision: int | None, scale: int | None, adapt: Adaptation
) -> tuple[pa.DataType, pa.DataType | None]:
    """The Arrow type of a value of type ``name``, and the type it arrives as when another."""
    if name == _NUMERIC:
        adapt.text.add(oid)  # exact decimal text; Arrow casts it to the decimal type
        decimal = _decimal(precision, scale)
        return (decimal, pa.string()) if decimal is not None else (pa.string(), None)
    native = _NATIVE.get(name)
    if native is None:
        adapt.text.add(oid)
        return pa.string(), None
    if name in _LENIENT:
        adapt.lenient.add(oid)
    return native, None


def plan_columns(
    description: Sequence[psycopg.Column],
    types: TypesRegistry,
    unknown: dict[int, PgType],
) -> tuple[list[ColumnPlan], Adaptation]:
    """One plan per result column, and what the reading cursor must register.

    ``types`` is the connection's type registry; ``unknown`` describes the OIDs it lacks.
    """
    adapt = Adaptation()
    plans: list[ColumnPlan] = []
    for column in description:
        oid = column.type_code
        info = types.get(oid)
        if info is not None and info.array_oid == oid and info.oid != oid:
            element = _scalar(info.name, info.oid, column.precision, column.scale, adapt)
            plans.append(_list_plan(column.name, f"{info.name}[]", element))
        elif info is not None:
            arrow, via = _scalar(info.name, oid, column.precision, column.scale, adapt)
            repair = _finite if via is not None else None
            plans.append(ColumnPlan(column.name, arrow, info.name, via=via, repair=repair))
        else:
            plans.append(_unknown_plan(column.name, unknown.get(oid), types, adapt))
    return plans, adapt


def _list_plan(
    name: str, db_type: str, element: tuple[pa.DataType, pa.DataType | None]
) -> ColumnPlan:
    arrow, via = element
    if via is None:
        return ColumnPlan(name, pa.list_(arrow), db_type)
    return ColumnPlan(name, pa.list_(arrow), db_type, via=pa.list_(via), repair=_finite_items)


def _unknown_plan(
    name: str,
    found: PgType | None,
    types: TypesRegistry,
    adapt: Adaptation,
) -> ColumnPlan:
    """An enum, composite or extension type: its text; an array of one: a list of texts (or
    of the domain's base type)."""
    if found is None or found.element_oid is None or found.element_name is None:
        return ColumnPlan(name, pa.string(), found.name if found is not None else "unknown")
    base = types.get(found.element_oid)
    adapt.arrays.append(TypeInfo(found.element_name, found.element_oid, found.oid))
    if base is None:  # an array of enums (or of composites): the elements' text
        return ColumnPlan(name, pa.list_(pa.string()), found.name)
    element = _scalar(base.name, base.oid, None, None, adapt)
    return _list_plan(name, found.name, element)
