"""Fixtures for tests against the real MariaDB (or MySQL) at 127.0.0.1:3306, user root without a
password: a throwaway database per test, dropped afterwards with any other it created.

Import the fixtures into a test module (they are named ``mysql_server`` and ``mysql_db``)::

    from tests.integration.mysql_fixtures import MySqlDatabase, mysql_db_fixture, \
        mysql_server_fixture  # noqa: F401
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import service_unavailable

HOST = "127.0.0.1"
PORT = 3306
USER = "root"


def _connect(database: str | None = None) -> Any:
    import pymysql  # type: ignore[import-untyped]

    return pymysql.connect(
        host=HOST,
        port=PORT,
        user=USER,
        password="",
        database=database,
        charset="utf8mb4",
        autocommit=True,
        connect_timeout=5,
    )


@dataclass
class MySqlDatabase:
    """A database of one test's own; ``url`` is what a pipeline's `connection` takes."""

    name: str
    others: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"mysql://{USER}@{HOST}:{PORT}/{self.name}"

    def execute(self, *statements: str, database: str | None = None) -> None:
        """Run ``statements`` (autocommit) in this database, or in ``database``."""
        conn = _connect(database or self.name)
        try:
            with conn.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
        finally:
            conn.close()

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        conn = _connect(self.name)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall())
        finally:
            conn.close()

    def other_database(self) -> str:
        """Create another database, dropped with this one (for references across schemas)."""
        name = f"{self.name}_{len(self.others) + 1}"
        self.execute(f"CREATE DATABASE `{name}`")
        self.others.append(name)
        return name


@pytest.fixture(scope="module", name="mysql_server")
def mysql_server_fixture() -> None:
    """Fails fast (or skips on a laptop) when the server is not there."""
    import pymysql

    try:
        _connect().close()
    except pymysql.err.MySQLError as exc:
        service_unavailable(f"MariaDB/MySQL at {HOST}:{PORT} is not reachable: {exc}")


@pytest.fixture(name="mysql_db")
def mysql_db_fixture(mysql_server: None) -> Iterator[MySqlDatabase]:
    """A database of this test's own (names are generated here, so quoting them is safe)."""
    database = MySqlDatabase(f"sluiceway_test_{uuid.uuid4().hex[:16]}")
    conn = _connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{database.name}` CHARACTER SET utf8mb4")
    finally:
        conn.close()
    try:
        yield database
    finally:
        conn = _connect()
        try:
            with conn.cursor() as cursor:
                cursor.execute("SET foreign_key_checks = 0")  # this session only
                for name in [database.name, *database.others]:
                    cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            conn.close()
