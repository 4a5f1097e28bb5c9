"""Declarative range partitioning (``partition_by: {column: order_ts, granularity: month}``).

A table created with ``partition_by`` is ``PARTITION BY RANGE (column)`` with a ``DEFAULT``
partition (rows whose column is NULL land there). Before rows are written, every period they
fall in gets its partition — ``orders_p2024_03`` for March 2024 — created inside the load's
transaction, so a rolled-back load leaves no empty partitions behind. Periods are cut in UTC
(the load's session time zone).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sluiceway.core.errors import ConfigError
from sluiceway.core.sql_quoting import quote_identifier as q
from sluiceway.spec.write import RangePartitionSpec

if TYPE_CHECKING:
    import psycopg

_NAME_LIMIT = 63  # PostgreSQL's identifier length


def clause(spec: RangePartitionSpec, types: dict[str, str]) -> str:
    """``PARTITION BY RANGE (column)``, after checking the column is a date or timestamp."""
    found = {name.lower(): (name, type_) for name, type_ in types.items()}
    if spec.column.lower() not in found:
        raise ConfigError(
            f"`partition_by` names {spec.column!r}, which the rows do not have",
            hint=f"Columns: {', '.join(types)}",
        )
    name, type_ = found[spec.column.lower()]
    if not type_.upper().startswith(("DATE", "TIMESTAMP")):
        raise ConfigError(
            f"`partition_by` needs a date or timestamp column, and {name!r} is {type_}",
            hint="Declare the column's type under `columns:`, or partition by another column.",
        )
    return f"PARTITION BY RANGE ({q(name)})"


def _next(start: date, granularity: str) -> date:
    if granularity == "year":
        return start.replace(year=start.year + 1)
    if granularity == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return date.fromordinal(start.toordinal() + 1)


def _suffix(start: date, granularity: str) -> str:
    if granularity == "year":
        return f"p{start:%Y}"
    if granularity == "month":
        return f"p{start:%Y_%m}"
    return f"p{start:%Y_%m_%d}"


def create_default(conn: psycopg.Connection[Any], schema: str, table: str) -> None:
    name = f"{table[: _NAME_LIMIT - 8]}_default"
    conn.execute(f"CREATE TABLE {q(schema)}.{q(name)} PARTITION OF {q(schema)}.{q(table)} DEFAULT")


def ensure(
    conn: psycopg.Connection[Any],
    spec: RangePartitionSpec,
    *,
    schema: str,
    table: str,
    rows: str,
) -> list[str]:
    """Create the partitions of ``schema.table`` the rows of ``rows`` (SQL) fall in; returns
    the names created."""
    column = q(spec.column)
    found = conn.execute(
        f"SELECT DISTINCT CAST(date_trunc(%s, {column}) AS date) FROM {rows} "
        f"WHERE {column} IS NOT NULL",
        (spec.granularity,),
    ).fetchall()
    created = []
    for (start,) in sorted(found):
        name = f"{table[: _NAME_LIMIT - 12]}_{_suffix(start, spec.granularity)}"
        exists = conn.execute(
            "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s",
            (schema, name),
        ).fetchone()
        if exists:
            continue
        end = _next(start, spec.granularity)
        # Bounds are dates the database computed, written as ISO text: DDL takes no parameters.
        conn.execute(
            f"CREATE TABLE {q(schema)}.{q(name)} PARTITION OF {q(schema)}.{q(table)} "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
        created.append(name)
    return created
