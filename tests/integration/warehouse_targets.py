"""The warehouses a suite of write strategies runs on, each as a small *target*: the YAML of the
pipeline's ``warehouse:`` block and a way to read the loaded tables back.

``duckdb`` is the default warehouse in the project folder; ``postgres`` is this test's own
PostgreSQL database (fixture ``pg_url``), named in the pipeline through ``${SLUICEWAY_TEST_PG}``
as a team would name theirs. A suite takes a ``target`` fixture built by :func:`make_target`.

Reads give plain tuples. PostgreSQL's session time zone is set to UTC for them (the test
database's own zone is America/New_York): DuckDB renders a TIMESTAMPTZ in UTC too, and a
timestamp stored an offset away from what was loaded then shows as such instead of being folded
back by the same zone that shifted it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

ENGINES = ("duckdb", "postgres")
PG_ENV = "SLUICEWAY_TEST_PG"

Rows = list[tuple[Any, ...]]


@dataclass(frozen=True)
class Target:
    """One warehouse a pipeline loads into."""

    engine: str
    warehouse: str  # the pipeline's ``warehouse:`` block, unindented ("" for the default)
    read: Callable[[str], Rows]

    def rows(self, sql: str) -> Rows:
        """The rows of ``sql`` (written so that DuckDB and PostgreSQL both run it)."""
        return self.read(sql)

    def yaml(self, indent: int) -> str:
        """The ``warehouse:`` block indented by ``indent`` spaces, to end a pipeline's YAML."""
        if not self.warehouse:
            return ""
        return textwrap.indent(self.warehouse, " " * indent)


def libpq_url(pg_url: str) -> str:
    """The SQLAlchemy URL of the ``pg_url`` fixture as libpq (and PostgresSpec) take it."""
    return pg_url.replace("postgresql+psycopg://", "postgresql://")


def duckdb_target(project: Path) -> Target:
    def read(sql: str) -> Rows:
        path = project / ".sluiceway" / "warehouse.duckdb"
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute(sql).fetchall()

    return Target(engine="duckdb", warehouse="", read=read)


def postgres_rows(dsn: str, sql: str) -> Rows:
    """The rows of ``sql`` on ``dsn``, read in a session whose time zone is UTC."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True, options="-c TimeZone=UTC") as con:
        return [tuple(row) for row in con.execute(sql).fetchall()]


def postgres_target(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Target:
    dsn = libpq_url(pg_url)
    monkeypatch.setenv(PG_ENV, dsn)
    block = f"warehouse:\n  type: postgres\n  connection: ${{{PG_ENV}}}\n"
    return Target(engine="postgres", warehouse=block, read=lambda sql: postgres_rows(dsn, sql))


def make_target(request: pytest.FixtureRequest, project: Path) -> Target:
    """The target of a fixture parametrized over :data:`ENGINES` (``request.param``).

    PostgreSQL's database is asked for only here, so DuckDB's runs never need the server.
    """
    engine: str = request.param
    if engine == "duckdb":
        return duckdb_target(project)
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    return postgres_target(request.getfixturevalue("pg_url"), monkeypatch)
