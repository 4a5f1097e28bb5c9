"""A PostgreSQL source table as ``pg_catalog`` describes it: columns, primary and foreign keys.

The name is resolved by the server (``to_regclass``), exactly as a query would resolve it:
the search path, quoting and case folding (``Orders`` is ``orders``; ``"Orders"`` is not).
"""

from __future__ import annotations

from typing import Any

import psycopg

from sluiceway.core.errors import ConfigError, Location, SourceNotFoundError
from sluiceway.sources.sql.catalog import ColumnInfo, ForeignKey, TableInfo, missing_table_hint
from sluiceway.sources.sql.pg_arrow import PgType

_READABLE = {"r": "table", "p": "table", "v": "view", "m": "view", "f": "table"}

_RELATION = """
SELECT c.oid, n.nspname, c.relname, c.relkind
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.oid = pg_catalog.to_regclass(%s)
"""

_COLUMNS = """
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
FROM pg_catalog.pg_attribute AS a
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

_PRIMARY_KEY = """
SELECT a.attname
FROM pg_catalog.pg_index AS i
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
JOIN pg_catalog.pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = %s AND i.indisprimary
ORDER BY k.position
"""

_FOREIGN_KEYS = """
SELECT con.conname, rn.nspname, rc.relname,
       array_agg(a.attname::text ORDER BY k.position),
       array_agg(ra.attname::text ORDER BY k.position)
FROM pg_catalog.pg_constraint AS con
JOIN pg_catalog.pg_class AS rc ON rc.oid = con.confrelid
JOIN pg_catalog.pg_namespace AS rn ON rn.oid = rc.relnamespace
CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(attnum, refnum, position)
JOIN pg_catalog.pg_attribute AS a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
JOIN pg_catalog.pg_attribute AS ra ON ra.attrelid = con.confrelid AND ra.attnum = k.refnum
WHERE con.conrelid = %s AND con.contype = 'f'
GROUP BY con.conname, rn.nspname, rc.relname
ORDER BY con.conname
"""

_TABLES = """
SELECT n.nspname || '.' || c.relname
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%'
  AND NOT c.relispartition
ORDER BY n.nspname = 'public' DESC, 1
LIMIT 500
"""

# Types the driver does not know: an array's element is resolved to its domain's base type.
_TYPES = """
SELECT t.oid, pg_catalog.format_type(t.oid, NULL), e.oid, e.typname
FROM pg_catalog.pg_type AS t
LEFT JOIN pg_catalog.pg_type AS d ON d.oid = t.typelem AND t.typcategory = 'A'
LEFT JOIN pg_catalog.pg_type AS e ON e.oid = COALESCE(NULLIF(d.typbasetype, 0), d.oid)
WHERE t.oid = ANY(%s::oid[])
"""


def describe_table(conn: psycopg.Connection[Any], name: str) -> TableInfo:
    """``name``'s catalog entry; a name that resolves to nothing lists the tables there are."""
    where = Location(table=name)
    try:
        with conn.transaction():  # a savepoint: a bad name must not end the read's snapshot
            relation = conn.execute(_RELATION, (name,)).fetchone()
    except (psycopg.errors.InvalidName, psycopg.errors.SyntaxError) as exc:
        raise ConfigError(
            f"{name!r} is not a table name",
            hint='Write it as PostgreSQL does: orders, sales.orders, "Mixed Case".',
            location=where,
        ) from exc
    except psycopg.errors.FeatureNotSupported as exc:  # otherdb.schema.table
        raise ConfigError(
            f"{name!r} names another database; a source reads the database of its connection",
            location=where,
        ) from exc
    if relation is None:
        raise SourceNotFoundError(
            f"table {name!r} does not exist in database {conn.info.dbname!r} (or its schema is "
            "not on the search_path)",
            hint=missing_table_hint(name, list_tables(conn)),
            location=where,
        )
    oid, schema, table, kind = relation
    if kind not in _READABLE:
        raise ConfigError(
            f"{schema}.{table} is not a table or a view (relkind {kind!r})", location=where
        )
    columns = tuple(
        ColumnInfo(str(column), str(type_), bool(nullable))
        for column, type_, nullable in conn.execute(_COLUMNS, (oid,)).fetchall()
    )
    key = tuple(str(row[0]) for row in conn.execute(_PRIMARY_KEY, (oid,)).fetchall())
    foreign = tuple(
        ForeignKey(
            name=str(constraint),
            columns=tuple(own),
            referenced_schema=str(ref_schema),
            referenced_table=str(ref_table),
            referenced_columns=tuple(referenced),
        )
        for constraint, ref_schema, ref_table, own, referenced in conn.execute(
            _FOREIGN_KEYS, (oid,)
        ).fetchall()
    )
    return TableInfo(str(schema), str(table), columns, key, foreign)


def list_tables(conn: psycopg.Connection[Any]) -> list[str]:
    """``schema.table`` of the tables and views in the database (``public`` first)."""
    return [str(row[0]) for row in conn.execute(_TABLES).fetchall()]


def unknown_types(conn: psycopg.Connection[Any], oids: list[int]) -> dict[int, PgType]:
    """What ``pg_type`` says about types the driver does not know (enums, domain arrays)."""
    if not oids:
        return {}
    found: dict[int, PgType] = {}
    for oid, name, element_oid, element_name in conn.execute(_TYPES, (oids,)).fetchall():
        found[int(oid)] = PgType(
            oid=int(oid),
            name=str(name),
            element_oid=int(element_oid) if element_oid is not None else None,
            element_name=str(element_name) if element_name is not None else None,
        )
    return found
