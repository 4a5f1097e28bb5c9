"""Load SQL (DuckDB's dialect) as PostgreSQL text, and a runner of sqlglot expressions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from sluiceway.core.errors import DataError
from sluiceway.core.sql_compile import compile_sql
from sluiceway.warehouses.bookkeeping import STAGING_SCHEMA
from sluiceway.warehouses.postgres.types import arrow_type

if TYPE_CHECKING:
    import psycopg

DIALECT = "postgres"
_STAGING_CREATE = f'CREATE TABLE "{STAGING_SCHEMA}".'


@lru_cache(maxsize=2048)
def to_postgres(sql: str, *, params: bool) -> str:
    """DuckDB-dialect ``sql`` as PostgreSQL; ``$name`` parameters become psycopg's
    ``%(name)s`` (and a literal ``%`` is doubled) when ``params``. Helper tables in the
    staging schema are UNLOGGED: they never outlive their transaction, so they skip the WAL."""
    text = compile_sql(sql, DIALECT, params=params)
    if sql.startswith(_STAGING_CREATE):
        text = "CREATE UNLOGGED TABLE" + text[len("CREATE TABLE") :]
    return text


def arrow_rows(cursor: psycopg.Cursor[Any]) -> pa.Table:
    """The rows of an executed query as Arrow, typed by the columns' PostgreSQL types."""
    description = cursor.description or []
    names = [d.name for d in description]
    types = [_column_arrow(cursor, d) for d in description]
    rows = cursor.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays: list[pa.Array] = []
    for values, declared in zip(columns, types, strict=True):
        type_ = declared
        if _unconstrained_numeric(cursor, description[len(arrays)]):
            type_ = _decimal_for(values) or declared
        try:
            arrays.append(pa.array(list(values), type_))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            arrays.append(pa.array([None if v is None else str(v) for v in values], pa.string()))
    return pa.Table.from_arrays(arrays, names=_unique(names))


class ArrowBatches:
    """Rows fetched in batches from an executed (server-side) cursor, as Arrow batches of one
    schema: the columns' PostgreSQL types, and for an unconstrained NUMERIC the decimal the
    first batch's values fit (:func:`arrow_rows` decides per result; a stream must decide
    once). A later value that does not fit that type is an error, never a silent rounding."""

    def __init__(self, cursor: psycopg.Cursor[Any], batch_size: int) -> None:
        self._cursor = cursor
        self._batch_size = batch_size
        description = cursor.description or []
        self._names = _unique([d.name for d in description])
        self._types = [_column_arrow(cursor, d) for d in description]
        self._open = [_unconstrained_numeric(cursor, d) for d in description]
        self._first = cursor.fetchmany(batch_size)
        columns = self._columns(self._first)
        for index, values in enumerate(columns):
            if self._open[index]:
                self._types[index] = _decimal_for(values) or self._types[index]
        self.schema = pa.schema(list(zip(self._names, self._types, strict=True)))

    def _columns(self, rows: Sequence[Any]) -> list[Sequence[Any]]:
        return list(zip(*rows, strict=True)) if rows else [() for _ in self._names]

    def _batch(self, rows: Sequence[Any]) -> pa.RecordBatch:
        arrays: list[pa.Array] = []
        for name, type_, values in zip(self._names, self._types, self._columns(rows), strict=True):
            try:
                arrays.append(pa.array(list(values), type_))
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
                raise DataError(
                    f"column {name!r}: a value does not fit {type_}, the type its first "
                    f"{self._batch_size:,} rows gave it ({_first_line(exc)})",
                    hint="Cast the column in the SQL (e.g. CAST(x AS DECIMAL(18,4))).",
                ) from exc
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        rows = self._first
        while rows:
            yield self._batch(rows)
            rows = self._cursor.fetchmany(self._batch_size)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _unconstrained_numeric(cursor: psycopg.Cursor[Any], column: Any) -> bool:
    info = cursor.adapters.types.get(column.type_code)
    return info is not None and info.name == "numeric" and column.precision is None


def _decimal_for(values: Sequence[Any]) -> pa.DataType | None:
    """A DECIMAL(38, s) holding every value of an unconstrained NUMERIC result column (what
    DuckDB gives ``sum()`` of a decimal, say), ``s`` the largest scale among them; ``None``
    when one does not fit (or is not finite): the column stays exact text. Arrow infers the
    precision and scale the values need (in C++: a Python loop here cost as much as the fetch)."""
    try:
        needed = pa.array(values).type
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # NaN, Infinity
        return None
    if pa.types.is_null(needed):
        return pa.decimal128(_MAX_PRECISION, 0)
    if not pa.types.is_decimal128(needed):
        return None  # decimal256: more than 38 digits
    assert isinstance(needed, pa.Decimal128Type)
    return pa.decimal128(_MAX_PRECISION, max(needed.scale, 0))


_MAX_PRECISION = 38


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        result.append(name if count == 0 else f"{name}_{count}")
    return result


_ALIASES = {
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
    "time": "time without time zone",
    "bool": "boolean",
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "varchar": "text",
    "bpchar": "text",
}


def _column_arrow(cursor: psycopg.Cursor[Any], column: Any) -> pa.DataType:
    info = cursor.adapters.types.get(column.type_code)
    if info is None:
        return pa.string()
    name = _ALIASES.get(info.name, info.name)
    if name == "numeric" and column.precision is not None:
        name = f"numeric({column.precision},{column.scale})"
    type_ = arrow_type(name)
    return pa.list_(type_) if column.type_code == info.array_oid else type_


class PostgresRunner:
    """A :class:`~sluiceway.quality.sql.SqlRunner` over one psycopg connection (a load's open
    transaction, or a connection of the pool): expressions compiled to PostgreSQL."""

    dialect = DIALECT

    def __init__(self, conn: psycopg.Connection[Any], translate: Any = None) -> None:
        self._conn = conn
        self._translate = translate  # a context manager factory turning psycopg errors

    def fetch(self, query: exp.Expr) -> pa.Table:
        with self._guard(), self._conn.cursor() as cursor:
            cursor.execute(compile_sql(query, DIALECT))
            return arrow_rows(cursor)

    def execute(self, statement: exp.Expr) -> int:
        with self._guard(), self._conn.cursor() as cursor:
            cursor.execute(compile_sql(statement, DIALECT))
            if cursor.description:
                row = cursor.fetchone()
                return int(row[0]) if row and isinstance(row[0], int) else 0
            return max(int(cursor.rowcount), 0)

    def _guard(self) -> Any:
        if self._translate is None:
            return contextlib.nullcontext()
        return self._translate("running quality SQL")
