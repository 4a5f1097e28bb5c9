"""Fixtures for tests against the real services: a throwaway PostgreSQL database per test, and a
private ``wal_level = logical`` cluster for change data capture."""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import psycopg
import pyarrow as pa
import pytest
from psycopg import sql
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlglot import exp

from tests.conftest import service_unavailable
from tests.integration.pg_logical import (
    ClusterUnavailable,
    PrivateCluster,
    find_bindir,
    plugin_installed,
    server_major,
    start_cluster,
)
from tests.integration.warehouse_targets import ENGINES, Target, make_target

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


# --- a private PostgreSQL cluster with wal_level = logical (change data capture) ---------


def _cluster(wal_level: str) -> PrivateCluster:
    try:
        bindir = find_bindir()
        if not plugin_installed(bindir, "wal2json"):
            major = server_major(bindir)
            service_unavailable(
                f"the wal2json output plugin is not installed for PostgreSQL {major} "
                f"(apt-get install postgresql-{major}-wal2json)"
            )
        return start_cluster(wal_level=wal_level)
    except ClusterUnavailable as exc:
        service_unavailable(f"cannot start a private PostgreSQL cluster: {exc}")


@pytest.fixture(scope="session")
def logical_cluster() -> Iterator[PrivateCluster]:
    cluster = _cluster("logical")
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def replica_cluster() -> Iterator[PrivateCluster]:
    """A cluster like the shared server: ``wal_level = replica``."""
    cluster = _cluster("replica")
    yield cluster
    cluster.stop()


def _own_database(cluster: PrivateCluster) -> Iterator[str]:
    name = f"cdc_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield cluster.dsn(name)
    finally:
        with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                "WHERE database = %s",
                (name,),
            )
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def logical_database(logical_cluster: PrivateCluster) -> Iterator[str]:
    """This test's own database on the logical cluster (its slots dropped with it)."""
    yield from _own_database(logical_cluster)


@pytest.fixture(params=ENGINES)
def target(request: pytest.FixtureRequest, project: Path) -> Target:
    """The project's warehouse, once per engine (DuckDB, PostgreSQL): what the tests compare."""
    return make_target(request, project)
