"""The MySQL / MariaDB side of a database source: PyMySQL, an unbuffered ``SSCursor``.

The connection reads in one ``WITH CONSISTENT SNAPSHOT, READ ONLY`` transaction with the
session's ``time_zone`` at UTC (so ``timestamp`` values arrive in UTC). An unbuffered cursor
streams rows as the client asks for them; while the pipeline loads a batch the server waits,
so the session's ``net_write_timeout`` is raised for this connection only.

PyMySQL's errors are translated here: an unreachable server (2002, 2003, 2006, 2013) is
:class:`SourceUnavailableError`, refused credentials or an unknown database a
:class:`ConfigError`, a missing table :class:`SourceNotFoundError` listing the tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pymysql  # type: ignore[import-untyped]
import pymysql.cursors  # type: ignore[import-untyped]

from sluiceway.core.errors import (
    ConfigError,
    SluicewayError,
    SourceError,
    SourceNotFoundError,
    SourceUnavailableError,
)
from sluiceway.sources.sql.arrow_rows import ColumnPlan
from sluiceway.sources.sql.catalog import TableInfo, missing_table_hint
from sluiceway.sources.sql.mysql_arrow import column_plan
from sluiceway.sources.sql.mysql_catalog import describe_table, list_tables
from sluiceway.sources.sql.reading import Rows
from sluiceway.sources.sql.server_url import ServerUrl, parse_url
from sluiceway.sources.sql.spec import MySqlSpec
from sluiceway.sources.sql.statements import Dialect, Statement

CONNECT_TIMEOUT = 10
WRITE_TIMEOUT = 3600  # seconds the server waits for the client to take the next rows
_SESSION = f"SET time_zone = '+00:00', net_write_timeout = {WRITE_TIMEOUT}"
_BEGIN = "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"
_UNAVAILABLE = {2002, 2003, 2005, 2006, 2013, 2055, 1040, 1053, 1205, 1213, 3024}
_REFUSED = {1044, 1045, 1049, 1698, 2059}
_CONFIG = {1054, 1064, 1142, 1143, 1052, 1060, 1221, 1792}


class MySqlDriver:
    """One MySQL / MariaDB connection of a source read (see :class:`~.reading.Driver`)."""

    dialect: Dialect = "mysql"
    nulled = 0  # PyMySQL hands zero dates over as text: the Arrow plans repair them

    def __init__(self, conn: Any, url: ServerUrl) -> None:
        self.conn = conn
        self.url = url
        self.label = url.label

    @classmethod
    def connect(cls, connection: str) -> MySqlDriver:
        """Connect with the URL ``connection`` and open the read's transaction."""
        try:
            url = parse_url(connection, schemes=MySqlSpec.SCHEMES, default_port=3306)
        except ValueError as exc:
            raise ConfigError(f"`connection` {exc}") from None
        params = url.params
        ssl = {key[4:]: params[key] for key in ("ssl_ca", "ssl_cert", "ssl_key") if key in params}
        try:
            conn = pymysql.connect(
                host=url.host,
                port=url.port,
                user=url.user,
                password=url.password or "",
                database=url.database or None,
                unix_socket=params.get("unix_socket"),
                charset=params.get("charset", "utf8mb4"),
                connect_timeout=int(params.get("connect_timeout", CONNECT_TIMEOUT)),
                ssl=ssl or None,
                autocommit=False,
            )
        except pymysql.err.MySQLError as exc:
            raise _connect_error(exc, url.label) from exc
        driver = cls(conn, url)
        try:
            with conn.cursor() as cursor:
                cursor.execute(_SESSION)
                cursor.execute(_BEGIN)
        except pymysql.err.MySQLError as exc:
            driver.close()
            raise translate(exc, url.label, doing="opening a read-only transaction") from exc
        return driver

    def table(self, name: str) -> TableInfo:
        try:
            with self.conn.cursor() as cursor:
                return describe_table(cursor, name, database=self.url.database)
        except pymysql.err.MySQLError as exc:
            doing = f"reading the catalog entry of {name!r}"
            raise translate(exc, self.label, doing=doing) from exc

    def describe(self, statement: Statement) -> list[ColumnPlan]:
        try:
            with self.conn.cursor() as cursor:
                cursor.execute(statement.sql, _params(statement))
                fields = cursor._result.fields  # the protocol's metadata: flags and charset
        except pymysql.err.MySQLError as exc:
            raise self._failed(exc, "describing the rows") from exc
        return [
            column_plan(
                field.name,
                type_code=field.type_code,
                length=field.length,
                flags=field.flags,
                charset=field.charsetnr,
                scale=field.scale,
            )
            for field in fields
        ]

    def fetch(self, statement: Statement, batch_size: int) -> Iterator[Rows]:
        cursor = self.conn.cursor(pymysql.cursors.SSCursor)
        try:
            cursor.execute(statement.sql, _params(statement))
            while rows := cursor.fetchmany(batch_size):
                yield rows
            cursor.close()
        except pymysql.err.MySQLError as exc:
            raise self._failed(exc, "reading the rows") from exc

    def close(self) -> None:
        # Closing an unbuffered cursor early would read its remaining rows: close the
        # connection instead, which ends the query and the transaction on the server.
        if self.conn.open:
            try:
                self.conn.close()
            except pymysql.err.MySQLError:  # the connection is gone already
                self.conn._force_close()

    def _failed(self, exc: Exception, doing: str) -> SluicewayError:
        error = translate(exc, self.label, doing=doing)
        if isinstance(error, SourceNotFoundError) and self.conn.open:
            try:  # list what exists, on a connection that is still usable
                self.conn.rollback()
                with self.conn.cursor() as cursor:
                    tables = list_tables(cursor, database=self.url.database)
                error.hint = missing_table_hint("", tables)
            except pymysql.err.MySQLError:
                pass
        return error


def _params(statement: Statement) -> tuple[Any, ...]:
    """The statement's values as PyMySQL writes them (an aware time: its UTC wall clock,
    which the session's UTC time zone reads back as the same instant)."""
    return tuple(
        value.astimezone(UTC).replace(tzinfo=None)
        if isinstance(value, datetime) and value.tzinfo is not None
        else value
        for value in statement.params
    )


def _code(exc: Exception) -> int | None:
    code = exc.args[0] if exc.args else None
    return code if isinstance(code, int) else None


def _text(exc: Exception) -> str:
    return str(exc.args[1]) if len(exc.args) > 1 else str(exc)


def _connect_error(exc: Exception, label: str) -> SluicewayError:
    code = _code(exc)
    if code in _REFUSED:
        return ConfigError(
            f"MySQL at {label} refused the connection: {_text(exc)}",
            hint="Check the user, password and database in `connection`.",
        )
    return SourceUnavailableError(
        f"cannot connect to MySQL at {label}: {_text(exc)}",
        hint="Check that the server is running and reachable, then retry.",
    )


def translate(exc: Exception, label: str, *, doing: str) -> SluicewayError:
    """The Sluiceway error for a PyMySQL error raised while ``doing`` on ``label``."""
    code = _code(exc)
    text = f"{doing} on {label} failed: {_text(exc)}"
    if code == 1146:
        return SourceNotFoundError(text)
    if code in _UNAVAILABLE or (code is None and isinstance(exc, pymysql.err.OperationalError)):
        return SourceUnavailableError(
            text, hint="Check that the server is running and reachable, then retry."
        )
    if code in _REFUSED or code in _CONFIG:
        return ConfigError(text, hint="Check the query, the columns it names and the grants.")
    return SourceError(text)
