"""How quality code talks to a warehouse: sqlglot expressions in, Arrow out.

Rules, profiles and cleaning operations are built once as sqlglot expressions in DuckDB's
dialect; a :class:`SqlRunner` renders them for its own dialect and runs them. A load hands the
quality code a runner bound to its open transaction, so checks see the staged rows and a
quarantine or a cleaning update commits (or rolls back) with the load.
"""

from __future__ import annotations

from typing import Any, Protocol

import duckdb
import pyarrow as pa
from sqlglot import exp

from sluiceway.core.sql_compile import compile_sql

READ_DIALECT = "duckdb"


class SqlRunner(Protocol):
    """Runs sqlglot expressions in one warehouse connection (or transaction)."""

    @property
    def dialect(self) -> str:
        """The sqlglot dialect expressions are rendered in."""

    def fetch(self, query: exp.Expr) -> pa.Table:
        """Run a query; its rows as Arrow."""

    def execute(self, statement: exp.Expr) -> int:
        """Run a statement; the number of rows it changed (0 when the engine does not say)."""


def render(expression: exp.Expr, dialect: str) -> str:
    """The SQL text of ``expression`` in ``dialect`` (built in DuckDB's), through the compile
    step (:func:`sluiceway.core.sql_compile.compile_sql`): DuckDB's text is sqlglot's as is."""
    return compile_sql(expression, dialect)


class DuckDBRunner:
    """A :class:`SqlRunner` over a DuckDB connection (a load's cursor, inside its transaction)."""

    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def fetch(self, query: exp.Expr) -> pa.Table:
        table: pa.Table = self._con.sql(render(query, self.dialect)).to_arrow_table()
        return table

    def execute(self, statement: exp.Expr) -> int:
        rows: list[Any] = self._con.execute(render(statement, self.dialect)).fetchall()
        if rows and rows[0] and isinstance(rows[0][0], int):
            return int(rows[0][0])
        return 0
