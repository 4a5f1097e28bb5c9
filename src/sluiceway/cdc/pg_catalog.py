"""What the catalog says about the tables a change reader follows: columns, types, key.

The catalog gives every batch the table's full, current column list even when a change names
fewer columns (a delete carries only the key; an update omits unchanged TOASTed values), so the
schema of a table's batches does not depend on which changes happened to be in them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from sluiceway.cdc.pg_errors import translate
from sluiceway.core.errors import ConfigError, Location

META_PREFIX = "_sluiceway_"


@dataclass(frozen=True, slots=True)
class SourceColumn:
    """One column of a followed table."""

    name: str
    pg_type: str  # format_type of the column's (base) type, with its modifier
    toastable: bool  # its values can be stored out of line, and so be left out of an update


@dataclass(frozen=True, slots=True)
class SourceTable:
    """A followed table as the catalog describes it."""

    name: str  # as the caller wrote it; keys the batch's tables
    schema: str
    table: str
    columns: tuple[SourceColumn, ...]
    key: tuple[str, ...]  # primary key, else the replica identity index; () for FULL without one
    identity_full: bool  # REPLICA IDENTITY FULL: updates and deletes carry the whole old row

    @property
    def qualified(self) -> str:
        """``schema.table`` for messages."""
        return f"{self.schema}.{self.table}"


_RELATION = """
SELECT c.oid, n.nspname, c.relname, c.relkind, c.relreplident
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.oid = pg_catalog.to_regclass(%s)
"""

# A domain column is described by its base type: wal2json prints the domain's name, and the
# reader must still know that posint holds integers.
_COLUMNS = """
SELECT a.attname,
       pg_catalog.format_type(
           COALESCE(NULLIF(t.typbasetype, 0), a.atttypid),
           CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END),
       t.typstorage <> 'p'
FROM pg_catalog.pg_attribute AS a
JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

_KEYS = """
SELECT i.indisprimary, a.attname
FROM pg_catalog.pg_index AS i
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
JOIN pg_catalog.pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = %s AND (i.indisprimary OR i.indisreplident)
ORDER BY i.indisprimary DESC, k.position
"""


def _describe(conn: psycopg.Connection[Any], name: str) -> SourceTable:
    where = Location(table=name)
    try:
        relation = conn.execute(_RELATION, (name,)).fetchone()
    except (
        psycopg.errors.InvalidName,  # an unterminated quote
        psycopg.errors.SyntaxError,  # a.b.c.d
        psycopg.errors.FeatureNotSupported,  # otherdb.schema.table
    ) as exc:
        raise ConfigError(
            f"{name!r} is not a table name",
            hint='Write a table as PostgreSQL does: orders, sales.orders, "Mixed Case".',
            location=where,
        ) from exc
    if relation is None:
        raise ConfigError(
            f"table {name!r} does not exist in database {conn.info.dbname!r} "
            "(or is not on the search_path)",
            hint="Check the spelling, qualify it with its schema (sales.orders), and quote "
            'mixed-case names ("Orders").',
            location=where,
        )
    oid, schema, table, kind, replident = relation
    if kind == "p":
        raise ConfigError(
            f"{schema}.{table} is a partitioned table; changes are decoded per partition",
            hint="List its partitions as the tables to follow.",
            location=where,
        )
    if kind != "r":
        raise ConfigError(
            f"{schema}.{table} is not a table (relkind {kind!r}); only tables have changes "
            "in the log",
            location=where,
        )
    columns = tuple(
        SourceColumn(str(col), str(pg_type), bool(toastable))
        for col, pg_type, toastable in conn.execute(_COLUMNS, (oid,)).fetchall()
    )
    reserved = [c.name for c in columns if c.name.startswith(META_PREFIX)]
    if reserved:
        raise ConfigError(
            f"{schema}.{table} has column {reserved[0]!r}, a name Sluiceway reserves for its "
            "change columns",
            hint=f"Rename the column: names starting {META_PREFIX!r} are Sluiceway's.",
            location=Location(table=name, column=reserved[0]),
        )
    keys = conn.execute(_KEYS, (oid,)).fetchall()
    primary = tuple(str(col) for is_pk, col in keys if is_pk)
    replica = tuple(str(col) for is_pk, col in keys if not is_pk)
    key = primary or (replica if replident == "i" else ())
    if replident == "n" or (not key and replident != "f"):
        raise ConfigError(
            f"{schema}.{table} has no primary key and no replica identity, so its deletes "
            "and updates cannot say which row they change",
            hint=f"Add a primary key, or run ALTER TABLE {schema}.{table} REPLICA IDENTITY "
            "FULL (each change then carries the whole old row).",
            location=where,
        )
    return SourceTable(
        name=name,
        schema=str(schema),
        table=str(table),
        columns=columns,
        key=key,
        identity_full=replident == "f",
    )


def describe_tables(conn: psycopg.Connection[Any], names: Sequence[str]) -> dict[str, SourceTable]:
    """The followed tables, by the name the caller gave; a missing one is a ``ConfigError``."""
    if isinstance(names, str):
        raise ConfigError(
            "tables must be a list of table names, not one string",
            hint=f"Write tables=[{names!r}].",
        )
    if not names:
        raise ConfigError("no table to follow", hint="Pass tables=['schema.table', ...].")
    described: dict[str, SourceTable] = {}
    seen: dict[tuple[str, str], str] = {}
    try:
        with conn.transaction():
            for name in names:
                table = _describe(conn, name)
                earlier = seen.setdefault((table.schema, table.table), name)
                if earlier != name or name in described:
                    also = "" if earlier == name else f" (as {earlier!r})"
                    raise ConfigError(
                        f"table {table.qualified} is listed twice: {name!r}{also}",
                        hint="List each table once.",
                    )
                described[name] = table
    except psycopg.Error as exc:
        raise translate(exc, conn, doing="reading the catalog") from exc
    return described
