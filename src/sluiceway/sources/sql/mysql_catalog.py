"""A MySQL or MariaDB source table as ``information_schema`` describes it.

A table is ``name`` (in the connection's database) or ``database.name``; quote a part with
backticks when it holds a dot (```my.db`.orders``). Whether names are case-sensitive is the
server's setting (``lower_case_table_names``); the catalog's spelling is what is read.
"""

from __future__ import annotations

from typing import Any

from sluiceway.core.errors import ConfigError, Location, SourceNotFoundError
from sluiceway.sources.sql.catalog import (
    ColumnInfo,
    ForeignKey,
    TableInfo,
    missing_table_hint,
    split_name,
)

_RELATION = """
SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s
"""

_COLUMNS = """
SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s
ORDER BY ORDINAL_POSITION
"""

_PRIMARY_KEY = """
SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND CONSTRAINT_NAME = 'PRIMARY'
ORDER BY ORDINAL_POSITION
"""

_FOREIGN_KEYS = """
SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME,
       k.REFERENCED_COLUMN_NAME
FROM information_schema.KEY_COLUMN_USAGE AS k
JOIN information_schema.REFERENTIAL_CONSTRAINTS AS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA
 AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
 AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.TABLE_SCHEMA = %s AND k.TABLE_NAME = %s
ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION
"""

_TABLES = """
SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
WHERE TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
ORDER BY TABLE_SCHEMA = %s DESC, TABLE_SCHEMA, TABLE_NAME
LIMIT 500
"""


def describe_table(cursor: Any, name: str, *, database: str) -> TableInfo:
    """``name``'s catalog entry (``cursor`` is a PyMySQL cursor; ``database`` the default)."""
    where = Location(table=name)
    try:
        parts = split_name(name, '`"')
    except ValueError as exc:
        raise ConfigError(f"{name!r} is not a table name: it {exc}", location=where) from None
    if len(parts) > 2:
        raise ConfigError(
            f"{name!r} is not a table name",
            hint="Write table or database.table; quote a name holding a dot with backticks.",
            location=where,
        )
    schema = parts[0] if len(parts) == 2 else database
    table = parts[-1]
    if not schema:
        raise ConfigError(
            f"table {name!r} names no database, and the connection URL has none",
            hint="Write database.table, or end the URL with /database.",
            location=where,
        )
    cursor.execute(_RELATION, (schema, table))
    found = cursor.fetchone()
    if found is None:
        raise SourceNotFoundError(
            f"table {name!r} does not exist in database {schema!r}",
            hint=missing_table_hint(name, list_tables(cursor, database=schema)),
            location=where,
        )
    schema, table = str(found[0]), str(found[1])
    cursor.execute(_COLUMNS, (schema, table))
    columns = tuple(
        ColumnInfo(str(column), str(type_), str(nullable) == "YES")
        for column, type_, nullable in cursor.fetchall()
    )
    cursor.execute(_PRIMARY_KEY, (schema, table))
    key = tuple(str(row[0]) for row in cursor.fetchall())
    cursor.execute(_FOREIGN_KEYS, (schema, table))
    return TableInfo(schema, table, columns, key, _foreign_keys(cursor.fetchall()))


def _foreign_keys(rows: list[tuple[Any, ...]]) -> tuple[ForeignKey, ...]:
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        grouped.setdefault(str(row[0]), []).append(row)
    return tuple(
        ForeignKey(
            name=name,
            columns=tuple(str(row[1]) for row in parts),
            referenced_schema=str(parts[0][2]),
            referenced_table=str(parts[0][3]),
            referenced_columns=tuple(str(row[4]) for row in parts),
        )
        for name, parts in grouped.items()
    )


def list_tables(cursor: Any, *, database: str) -> list[str]:
    """``database.table`` of the tables and views this connection can see, ``database``'s
    first."""
    cursor.execute(_TABLES, (database,))
    return [f"{schema}.{table}" for schema, table in cursor.fetchall()]
