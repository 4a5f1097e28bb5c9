"""One load into DuckDB: the primitives :class:`StagedLoad` runs its SQL through.

Each load has its own connection (a cursor of the warehouse's) and its own transaction. Batches
reach SQL through DuckDB's zero-copy registration of an Arrow reader. DuckDB writes large
uncommitted inserts to the database file as it goes, so staging a file larger than memory does
not grow memory.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa

from sluiceway.core.errors import SluicewayError, WarehouseError
from sluiceway.core.names import LOAD_ID_COLUMN
from sluiceway.core.sql_quoting import quote_identifier
from sluiceway.quality.sql import DuckDBRunner, SqlRunner
from sluiceway.warehouses import sql_builders as sb
from sluiceway.warehouses.base import LoadRequest
from sluiceway.warehouses.duckdb.errors import translate_load
from sluiceway.warehouses.staged_load import SQL_DIALECT, StagedLoad, numbered

DIALECT = "duckdb"
DEFAULT_SCHEMA = "main"


class DuckDBLoad(StagedLoad):
    default_schema = DEFAULT_SCHEMA

    def __init__(self, con: duckdb.DuckDBPyConnection, request: LoadRequest) -> None:
        self._con = con
        super().__init__(request)
        self._run("BEGIN TRANSACTION")

    def stage(self, reader: pa.RecordBatchReader) -> int:
        self._apply_schema_changes()
        view = f"__sluiceway_batches_{self._request.load_id.lower()}"
        if not self._direct:
            reader = numbered(reader)
        self._con.register(view, reader)
        try:
            items = "*"
            params: dict[str, Any] = {}
            if self._request.lineage:
                items = f"*, $load_id AS {quote_identifier(LOAD_ID_COLUMN)}"
                params["load_id"] = self._request.load_id
            source = f"SELECT {items} FROM {quote_identifier(view)}"
            if self._direct:
                names = list(reader.schema.names)
                if self._request.lineage:
                    names.append(LOAD_ID_COLUMN)
                self._staged = self._write_target(source, params, names)
            else:
                staging = sb.table(self._staging, DEFAULT_SCHEMA).sql(SQL_DIALECT)
                self._staged = self._count(f"CREATE TABLE {staging} AS {source}", params)
        finally:
            self._unregister(view)
        return self._staged

    def _write_target(self, source: str, params: dict[str, Any], names: list[str]) -> int:
        """Append or replace straight into the target (still inside the transaction).

        A replace keeps the table (and the schema the contract evolved) and swaps its rows.
        """
        target = self._target.sql(SQL_DIALECT)
        if not self._exists(self._request.table):
            return self._count(f"CREATE TABLE {target} AS {source}", params)
        if self._request.write == "replace":
            self._execute(sb.delete_all(self._target))
        self._window_deleted = self._changes().clear_window()
        columns = ", ".join(quote_identifier(c) for c in names)
        return self._count(f"INSERT INTO {target} ({columns}) SELECT * FROM ({source})", params)

    # -- primitives --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _rows_view(self, rows: pa.Table) -> Iterator[str]:
        view = f"__sluiceway_rows_{self._request.load_id.lower()}"
        self._con.register(view, rows)
        try:
            yield quote_identifier(view)
        finally:
            self._unregister(view)

    def _runner(self) -> SqlRunner:
        return DuckDBRunner(self._con)

    def _commit_transaction(self) -> None:
        self._run("COMMIT")
        self._con.close()

    def _abort(self) -> None:
        # The connection may already be gone; nothing was committed either way.
        with contextlib.suppress(duckdb.Error):
            self._con.execute("ROLLBACK")
        with contextlib.suppress(duckdb.Error):
            self._con.close()

    def _unregister(self, view: str) -> None:
        # In an aborted transaction DuckDB refuses even this; the rollback that follows drops
        # the registration with the connection's state.
        with contextlib.suppress(duckdb.Error):
            self._con.unregister(view)

    def _fetch(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        try:
            rows: list[tuple[Any, ...]] = self._con.execute(sql, params).fetchall()
        except duckdb.Error as exc:
            raise self._translate(exc) from exc
        return rows

    def _count(self, sql: str, params: dict[str, Any]) -> int:
        rows = self._fetch(sql, params)
        return int(rows[0][0]) if rows and rows[0] and rows[0][0] is not None else 0

    def _translate(self, exc: duckdb.Error) -> SluicewayError:
        if isinstance(exc, duckdb.InterruptException):
            return WarehouseError(f"loading {self._request.table} was interrupted")
        return translate_load(exc, str(self._request.table))
