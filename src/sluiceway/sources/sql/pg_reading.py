"""The PostgreSQL side of a database source: psycopg 3, a named (server-side) cursor.

The connection reads in one ``REPEATABLE READ, READ ONLY`` transaction, so the catalog, the
description and every batch see one snapshot. Session settings are pinned so values arrive in
the forms the type mapping expects (:mod:`.pg_arrow`): ``TimeZone=UTC``, ``DateStyle=ISO``,
``IntervalStyle=iso_8601``. psycopg's errors are translated here, where they enter: an
unreachable server is :class:`SourceUnavailableError` (retried), a wrong name or a missing
privilege a :class:`ConfigError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from sluiceway.core.errors import (
    ConfigError,
    SluicewayError,
    SourceError,
    SourceNotFoundError,
    SourceUnavailableError,
)
from sluiceway.sources.sql.arrow_rows import ColumnPlan
from sluiceway.sources.sql.catalog import TableInfo, missing_table_hint
from sluiceway.sources.sql.pg_arrow import Adaptation, NullCount, plan_columns
from sluiceway.sources.sql.pg_catalog import describe_table, list_tables, unknown_types
from sluiceway.sources.sql.reading import Rows
from sluiceway.sources.sql.statements import Dialect, Statement

CONNECT_TIMEOUT = 10
_CURSOR = "sluiceway_read"
_SESSION = (
    ("TimeZone", "UTC"),
    ("DateStyle", "ISO, YMD"),
    ("IntervalStyle", "iso_8601"),
    ("extra_float_digits", "3"),
    ("bytea_output", "hex"),
)
_PIN_SESSION = "SELECT " + ", ".join("pg_catalog.set_config(%s, %s, false)" for _ in _SESSION)
# What libpq says when the server is there but refuses these credentials or this database.
_REFUSED = ("password authentication failed", "does not exist", "no pg_hba.conf entry", "denied")


class PgDriver:
    """One PostgreSQL connection of a source read (see :class:`~.reading.Driver`)."""

    dialect: Dialect = "postgres"

    def __init__(self, conn: psycopg.Connection[Any], label: str) -> None:
        self.conn = conn
        self.label = label
        self._count = NullCount()
        self._adapt = Adaptation()

    @classmethod
    def connect(cls, connection: str) -> PgDriver:
        """Connect with ``connection`` (a URL or libpq keywords) and pin the session."""
        try:
            params: dict[str, Any] = conninfo_to_dict(
                re.sub(r"^postgresql\+\w+://", "postgresql://", connection)
            )
        except psycopg.Error:
            # libpq quotes the token it stumbled on, which can be the password itself.
            raise ConfigError(
                "`connection` is not a valid PostgreSQL connection string (libpq's message is "
                "not shown: it may quote the password)",
                hint="Write a URL: postgresql://user:password@host:5432/dbname, with special "
                "characters of the password percent-encoded.",
            ) from None
        label = (
            f"{params.get('host') or 'localhost'}:{params.get('port') or 5432}/"
            f"{params.get('dbname') or params.get('user') or ''}"
        )
        params.setdefault("connect_timeout", CONNECT_TIMEOUT)
        params.setdefault("application_name", "sluiceway")
        try:
            conn = psycopg.connect(**params)
        except psycopg.Error as exc:
            text = " ".join(str(exc).split()).removeprefix("connection failed: ")
            if any(marker in text for marker in _REFUSED):
                raise ConfigError(
                    f"PostgreSQL at {label} refused the connection: {text}",
                    hint="Check the user, password and database in `connection`.",
                ) from exc
            raise SourceUnavailableError(
                f"cannot connect to PostgreSQL at {label}: {text}",
                hint="Check that the server is running and reachable, then retry.",
            ) from exc
        try:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            conn.execute(_PIN_SESSION, [value for pair in _SESSION for value in pair])
        except psycopg.Error as exc:
            conn.close()
            raise translate(exc, label, doing="preparing the session") from exc
        return cls(conn, label)

    @property
    def nulled(self) -> int:
        return self._count.nulled

    def table(self, name: str) -> TableInfo:
        try:
            return describe_table(self.conn, name)
        except psycopg.Error as exc:
            doing = f"reading the catalog entry of {name!r}"
            raise translate(exc, self.label, doing=doing) from exc

    def describe(self, statement: Statement) -> list[ColumnPlan]:
        try:
            cursor = self.conn.execute(statement.sql, statement.params)
            description = cursor.description or []
            types = self.conn.adapters.types
            unknown = [c.type_code for c in description if types.get(c.type_code) is None]
            plans, self._adapt = plan_columns(description, types, unknown_types(self.conn, unknown))
        except psycopg.Error as exc:
            raise self._failed(exc, "describing the rows") from exc
        return plans

    def fetch(self, statement: Statement, batch_size: int) -> Iterator[Rows]:
        try:
            with self.conn.cursor(name=_CURSOR) as cursor:
                self._adapt.apply(cursor, self._count)
                cursor.itersize = batch_size
                cursor.execute(statement.sql, statement.params)
                while rows := cursor.fetchmany(batch_size):
                    yield rows
        except psycopg.Error as exc:
            raise self._failed(exc, "reading the rows") from exc

    def close(self) -> None:
        self.conn.close()

    def _failed(self, exc: psycopg.Error, doing: str) -> SluicewayError:
        error = translate(exc, self.label, doing=doing)
        if isinstance(error, SourceNotFoundError) and not self.conn.closed:
            try:  # the failed statement ended the transaction; list what exists
                self.conn.rollback()
                error.hint = missing_table_hint("", list_tables(self.conn))
            except psycopg.Error:
                pass
        return error


def translate(exc: psycopg.Error, label: str, *, doing: str) -> SluicewayError:
    """The Sluiceway error for ``exc``, raised while ``doing`` on the server ``label``."""
    state = exc.sqlstate or ""
    primary = exc.diag.message_primary or " ".join(str(exc).split())
    text = f"{doing} on {label} failed: {primary}"
    if state == "42P01":
        return SourceNotFoundError(text)
    if state in ("42703", "42601", "42883", "42804", "22P02", "22007", "22008"):
        return ConfigError(text, hint="Check the query and the columns it names.")
    if state == "42501":
        return ConfigError(
            text, hint="Grant the role SELECT on the table (GRANT SELECT ON ... TO <role>)."
        )
    if state == "25006":
        return ConfigError(text, hint="A source only reads: the query must not write.")
    if isinstance(exc, psycopg.OperationalError) or state[:2] in {"08", "40", "53", "57"}:
        return SourceUnavailableError(
            text, hint="Check that the server is running and reachable, then retry."
        )
    return SourceError(text)
