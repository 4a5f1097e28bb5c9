"""DuckDB, the embedded default warehouse: one file, one writing process, no server."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
from pydantic import Field

from sluiceway.core.clock import utcnow
from sluiceway.core.errors import WarehouseError
from sluiceway.core.names import TableRef
from sluiceway.core.sql_quoting import quote_identifier
from sluiceway.quality.sql import DuckDBRunner, SqlRunner
from sluiceway.spec.models import WarehouseSpec
from sluiceway.warehouses import sql_builders as sb
from sluiceway.warehouses.base import (
    Load,
    LoadRequest,
    Warehouse,
    WarehouseCapabilities,
    WarehouseContext,
)
from sluiceway.warehouses.bookkeeping import BOOTSTRAP, MIGRATIONS, SCHEMA
from sluiceway.warehouses.duckdb.errors import translate_open
from sluiceway.warehouses.duckdb.load import DEFAULT_SCHEMA, DIALECT, DuckDBLoad

DEFAULT_FILE = "warehouse.duckdb"


class DuckDBSpec(WarehouseSpec):
    """An embedded DuckDB database file."""

    type: Literal["duckdb"]
    path: str | None = Field(
        None,
        description="The database file; `warehouse.duckdb` in the state folder when unset. "
        "`:memory:` keeps everything in memory (tests).",
    )
    memory_limit: str | None = Field(
        None, description="DuckDB's memory limit, e.g. `4GB`; DuckDB's default when unset."
    )
    threads: int | None = Field(None, ge=1, description="Worker threads; all cores when unset.")


class DuckDBWarehouse(Warehouse[DuckDBSpec]):
    spec = DuckDBSpec
    capabilities = WarehouseCapabilities(
        dialect=DIALECT,
        transactional_ddl=True,
        single_writer=True,
        default_schema=DEFAULT_SCHEMA,
    )

    def __init__(self, config: DuckDBSpec, context: WarehouseContext) -> None:
        super().__init__(config, context)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._cursors = threading.local()
        self._opener: threading.Thread | None = None
        self._ddl = threading.Lock()

    @property
    def path(self) -> str:
        if self.config.path == ":memory:":
            return ":memory:"
        if self.config.path is None:
            return str(self.context.state_dir / DEFAULT_FILE)
        return str(Path(self.context.resolve_path(self.config.path)))

    def describe(self) -> str:
        return f"duckdb:{self.path}"

    def open(self, *, read_only: bool = False) -> None:
        path = self.path
        if path != ":memory:":
            file = Path(path)
            if read_only and not file.exists():
                raise WarehouseError(
                    f"there is no warehouse at {path} yet",
                    hint="Run a pipeline first (`sluiceway run`), or `sluiceway demo`.",
                )
            if not read_only:
                try:
                    file.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise WarehouseError(
                        f"cannot create the folder of the warehouse {path}: {exc.strerror}",
                        hint="Point `warehouse.path` at a writable location.",
                    ) from exc
        config: dict[str, str | bool | int | float | list[str]] = {
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            # Inserts may store rows in any order (faster, in parallel); nothing here relies
            # on a table's physical order: merges number staged rows explicitly.
            "preserve_insertion_order": False,
        }
        if self.config.memory_limit:
            config["memory_limit"] = self.config.memory_limit
        if self.config.threads:
            config["threads"] = self.config.threads
        try:
            self._con = duckdb.connect(path, read_only=read_only, config=config)
            self._opener = threading.current_thread()
            # Timestamps with a zone come back in UTC, whatever the machine's zone: GLOBAL, so
            # that cursors (a load's, another thread's) have it too; SET alone is per cursor.
            self._con.execute("SET GLOBAL TimeZone = 'UTC'")
        except duckdb.Error as exc:
            raise translate_open(exc, path) from exc
        if not read_only:
            self._migrate()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
            self._cursors = threading.local()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The connection for this thread: steps run in parallel threads, and a DuckDB
        connection must not be used by two threads at once, so each thread but the opener
        gets its own cursor of the same database."""
        if self._con is None:
            raise WarehouseError("the warehouse is not open")
        if threading.current_thread() is self._opener:
            return self._con
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._cursors, "con", None)
        if cursor is None:
            cursor = self._con.cursor()
            self._cursors.con = cursor
        return cursor

    def duckdb_cursor(self) -> duckdb.DuckDBPyConnection:
        return self.connection.cursor()

    def begin(self, request: LoadRequest) -> Load:
        self.check(request)
        if request.table.schema is not None:
            self.create_schema(request.table.schema)
        return DuckDBLoad(self.connection.cursor(), request)

    def create_schema(self, schema: str) -> None:
        # One thread at a time: two parallel steps creating one schema would otherwise
        # conflict ("Catalog write-write conflict").
        with self._ddl:
            self.connection.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(schema)}")

    def table_schema(self, table: TableRef) -> pa.Schema | None:
        rows = self.connection.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE lower(table_schema) = lower($schema) AND lower(table_name) = lower($name)",
            {"schema": table.schema or DEFAULT_SCHEMA, "name": table.name},
        ).fetchall()
        if not rows[0][0]:
            return None
        target = sb.table(table, DEFAULT_SCHEMA).sql(DIALECT)
        result = self.connection.sql(f"SELECT * FROM {target} LIMIT 0").to_arrow_table()
        nullable = dict(
            self.connection.execute(
                "SELECT lower(column_name), is_nullable = 'YES' FROM information_schema.columns "
                "WHERE lower(table_schema) = lower($schema) AND lower(table_name) = lower($name)",
                {"schema": table.schema or DEFAULT_SCHEMA, "name": table.name},
            ).fetchall()
        )
        schema: pa.Schema = pa.schema(
            [f.with_nullable(bool(nullable.get(f.name.lower(), True))) for f in result.schema]
        )
        return schema

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pa.Table:
        bound: list[Any] | dict[str, Any] | None = None
        if isinstance(params, Mapping):
            bound = dict(params)
        elif params:
            bound = list(params)
        try:
            relation = self.connection.sql(sql, params=bound)
        except duckdb.Error as exc:
            raise WarehouseError(f"query failed: {str(exc).strip().splitlines()[0]}") from exc
        try:
            table: pa.Table = relation.to_arrow_table()
        except duckdb.Error as exc:
            raise WarehouseError(f"query failed: {str(exc).strip().splitlines()[0]}") from exc
        return table

    def execute(self, statements: Sequence[str]) -> None:
        con = self.connection.cursor()
        try:
            con.execute("BEGIN TRANSACTION")
            for statement in statements:
                con.execute(statement)
            con.execute("COMMIT")
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise WarehouseError(f"{str(exc).strip().splitlines()[0]}") from exc
        finally:
            con.close()

    def stream(self, sql: str, *, batch_size: int) -> pa.RecordBatchReader:
        """Batches straight from DuckDB's result, never the whole of it in memory, on a cursor
        of their own (the warehouse's connection stays free for other statements meanwhile)."""
        con = self.connection.cursor()
        try:
            source = con.sql(sql).to_arrow_reader(batch_size)
        except duckdb.Error as exc:
            con.close()
            raise WarehouseError(f"query failed: {str(exc).strip().splitlines()[0]}") from exc

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                yield from source
            except duckdb.Error as exc:
                raise WarehouseError(f"query failed: {str(exc).strip().splitlines()[0]}") from exc
            finally:
                con.close()

        return pa.RecordBatchReader.from_batches(source.schema, batches())

    def explain(self, sql: str, *, analyze: bool = False) -> Any:
        options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
        con = self.connection.cursor()
        try:
            con.execute("BEGIN TRANSACTION")
            rows = con.execute(f"EXPLAIN ({options}) {sql}").fetchall()
        except duckdb.Error as exc:
            raise WarehouseError(f"explain failed: {str(exc).strip().splitlines()[0]}") from exc
        finally:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")  # EXPLAIN ANALYZE of a write must not keep it
            con.close()
        return json.loads(rows[0][1]) if rows else None

    def set_state(
        self, pipeline: str, source: str, name: str, value: str | None, *, by: str
    ) -> None:
        params = {"pipeline": pipeline, "source": source, "name": name}
        where = "pipeline = $pipeline AND source = $source AND name = $name"
        con = self.connection
        try:
            con.execute("BEGIN TRANSACTION")
            con.execute(f"DELETE FROM {SCHEMA}.state WHERE {where}", params)
            if value is not None:
                con.execute(
                    f"INSERT INTO {SCHEMA}.state (pipeline, source, name, value, load_id, "
                    "run_id, updated_at) VALUES ($pipeline, $source, $name, $value, NULL, $by, "
                    "$at)",
                    {**params, "value": value, "by": by, "at": utcnow()},
                )
            con.execute("COMMIT")
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise WarehouseError(f"could not change the state of {source}: {exc}") from exc

    def sql_runner(self) -> SqlRunner:
        return DuckDBRunner(self.connection)

    def _migrate(self) -> None:
        con = self.connection
        for statement in BOOTSTRAP:
            con.execute(statement)
        applied = {
            row[0] for row in con.execute(f"SELECT version FROM {SCHEMA}.migrations").fetchall()
        }
        known = {m.version for m in MIGRATIONS}
        newer = sorted(applied - known)
        if newer:
            raise WarehouseError(
                f"the warehouse {self.path} has bookkeeping version {newer[-1]}, newer than "
                f"this Sluiceway knows ({max(known)})",
                hint="Upgrade Sluiceway to load into this warehouse.",
            )
        for migration in MIGRATIONS:
            if migration.version in applied:
                continue
            con.execute("BEGIN TRANSACTION")
            try:
                for statement in migration.compiled(DIALECT):
                    con.execute(statement)
                con.execute(
                    f"INSERT INTO {SCHEMA}.migrations VALUES ($version, $name, $at)",
                    {"version": migration.version, "name": migration.name, "at": utcnow()},
                )
                con.execute("COMMIT")
            except duckdb.Error:
                con.execute("ROLLBACK")
                raise
