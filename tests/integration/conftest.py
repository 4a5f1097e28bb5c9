"""Fixtures for tests against the real services: a throwaway PostgreSQL database per test."""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from typing import Any, NoReturn

import pyarrow as pa
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlglot import exp

from tests.conftest import service_unavailable

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def _pg_unavailable(reason: str) -> NoReturn:
    service_unavailable(f"PostgreSQL at 127.0.0.1:5432 is not reachable: {reason}")


@pytest.fixture(scope="module")
def pg_server() -> Iterator[Engine]:
    """An autocommit connection to the server's maintenance database, to create databases."""
    if importlib.util.find_spec("psycopg") is None:
        _pg_unavailable("the psycopg driver is not installed (pip install 'psycopg[binary]')")
    engine = create_engine(
        f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        _pg_unavailable(" ".join(str(exc.orig).split()))
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_server: Engine) -> Iterator[str]:
    """The URL of a database of this test's own, dropped afterwards.

    Its time zone is away from UTC, so tests see what a team's server in another zone hands back.
    """
    # The name is generated here, never taken from input, so quoting it into DDL is safe.
    name = f"sluiceway_test_{uuid.uuid4().hex[:16]}"
    with pg_server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        connection.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO 'America/New_York'"))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with pg_server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class PsycopgRunner:
    """A ``SqlRunner`` over a psycopg connection: quality SQL transpiled to PostgreSQL."""

    dialect = "postgres"

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def fetch(self, query: exp.Expr) -> pa.Table:
        with self._connection.cursor() as cursor:
            cursor.execute(query.sql(dialect=self.dialect))
            names = [d.name for d in cursor.description or ()]
            rows = cursor.fetchall()
        return (
            pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in rows])
            if rows
            else pa.table({n: pa.array([], pa.null()) for n in names})
        )

    def execute(self, statement: exp.Expr) -> int:
        with self._connection.cursor() as cursor:
            cursor.execute(statement.sql(dialect=self.dialect))
            return max(int(cursor.rowcount), 0)


@pytest.fixture
def pg_runner(pg_url: str) -> Iterator[PsycopgRunner]:
    """A ``SqlRunner`` on this test's own PostgreSQL database (autocommit)."""
    import psycopg

    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as connection:
        yield PsycopgRunner(connection)
