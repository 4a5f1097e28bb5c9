"""PostgreSQL, the shared production warehouse: many writers, one pool, binary COPY."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from sluiceway.core.clock import utcnow
from sluiceway.core.errors import PipelineLockedError, WarehouseError
from sluiceway.core.ids import new_id
from sluiceway.core.names import TableRef
from sluiceway.core.retry import RetryPolicy
from sluiceway.core.sql_quoting import quote_identifier as q
from sluiceway.quality.sql import SqlRunner
from sluiceway.warehouses.base import Load, LoadRequest, Warehouse, WarehouseCapabilities
from sluiceway.warehouses.base import WarehouseContext as Context
from sluiceway.warehouses.bookkeeping import BOOTSTRAP, MIGRATIONS, SCHEMA
from sluiceway.warehouses.postgres.connection import Connections
from sluiceway.warehouses.postgres.load import PostgresLoad
from sluiceway.warehouses.postgres.spec import PostgresSpec
from sluiceway.warehouses.postgres.sql import (
    DIALECT,
    ArrowBatches,
    PostgresRunner,
    arrow_rows,
    to_postgres,
)
from sluiceway.warehouses.postgres.types import arrow_type

# Two processes upgrading the bookkeeping at once queue on this (any constant will do).
_MIGRATION_LOCK = 0x5170_1CE0


class PostgresWarehouse(Warehouse[PostgresSpec]):
    spec = PostgresSpec
    capabilities = WarehouseCapabilities(
        dialect=DIALECT,
        transactional_ddl=True,
        single_writer=False,
        default_schema="public",
        range_partitions=True,
    )

    def __init__(self, config: PostgresSpec, context: Context) -> None:
        super().__init__(config, context)
        self.connections = Connections(config)
        self._reader: Any = None  # an autocommit connection for sql_runner()

    @property
    def retry_policy(self) -> RetryPolicy:
        return self.config.retry.policy()

    def describe(self) -> str:
        return f"postgres:{self.connections.where}"

    def open(self, *, read_only: bool = False) -> None:
        self.connections.open()
        if not read_only:
            self.connections.run(self._migrate, "upgrading the bookkeeping")

    def close(self) -> None:
        if self._reader is not None:
            self.connections.give_back(self._reader)
            self._reader = None
        self.connections.close()

    def begin(self, request: LoadRequest) -> Load:
        self.check(request)
        # Outside the load's transaction: parallel loads would hold each other.
        self.create_schema(request.table.schema or self.default_schema)
        return PostgresLoad(self.connections, self.config, request)

    def create_schema(self, schema: str) -> None:
        # Under a lock: two concurrent CREATE SCHEMA IF NOT EXISTS of one name can both try to
        # insert it, and the second fails with a duplicate key in pg_namespace.
        def create(conn: Any) -> None:
            with conn.transaction():
                conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtext('sluiceway.schema'), hashtext(%s))",
                    (schema,),
                )
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {q(schema)}")

        self.connections.run(create, f"creating schema {schema}")

    def table_schema(self, table: TableRef) -> pa.Schema | None:
        def read(conn: Any) -> list[tuple[Any, ...]]:
            return list(
                conn.execute(
                    "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull "
                    "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p', 'v', "
                    "'m', 'f') AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                    (table.schema or self.default_schema, table.name),
                ).fetchall()
            )

        rows = self.connections.run(read, f"reading the columns of {table}")
        if not rows:
            return None
        return pa.schema(
            [pa.field(str(n), arrow_type(str(t)), nullable=bool(null)) for n, t, null in rows]
        )

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pa.Table:
        """Run PostgreSQL SQL (``%s`` / ``%(name)s`` placeholders); results as Arrow."""

        def run(conn: Any) -> pa.Table:
            with conn.cursor() as cursor:
                cursor.execute(sql, params or None)
                if cursor.description is None:
                    return pa.table({"rows": pa.array([max(cursor.rowcount, 0)], pa.int64())})
                return arrow_rows(cursor)

        result: pa.Table = self.connections.run(run, "query")
        return result

    @property
    def default_schema(self) -> str:
        return self.config.default_schema

    def stream(self, sql: str, *, batch_size: int) -> pa.RecordBatchReader:
        """A query's rows in batches through a server-side cursor ``WITH HOLD``: the server
        computes the result and keeps it (in memory or temporary files) when the declaring
        transaction commits, so no lock on the tables read outlives that commit (a model may
        read the table it writes) and the client holds one batch at a time.

        The cursor lives on a connection of its own, outside the pool: a stream is read while
        the load it feeds writes, and streams holding pooled connections could take every one
        the loads wait for."""
        conn = self.connections.dedicated("sluiceway stream")
        cursor: Any = None
        try:
            with self.connections.translated("query"):
                conn.autocommit = False
                cursor = conn.cursor(name=f"sluiceway_{new_id().lower()}", withhold=True)
                cursor.execute(sql)
                conn.commit()
                batches = ArrowBatches(cursor, batch_size)
        except BaseException:
            _end_stream(conn, cursor)
            raise

        def read() -> Iterator[pa.RecordBatch]:
            try:
                with self.connections.translated("reading query results"):
                    yield from batches
            finally:
                _end_stream(conn, cursor)

        return pa.RecordBatchReader.from_batches(batches.schema, read())

    def execute(self, statements: Sequence[str]) -> None:
        """PostgreSQL statements in one transaction, retried whole on a transient failure."""

        def run(conn: Any) -> None:
            with conn.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)

        self.connections.run(run, "executing statements")

    @contextmanager
    def run_lock(self, pipeline: str, *, run_id: str) -> Iterator[None]:
        """A session-level advisory lock on the pipeline's name, on a connection of its own
        (not the pool's): two machines loading one pipeline into this database take turns.
        The server frees it when the session ends, even if the process is killed."""
        conn = self.connections.dedicated(f"sluiceway run {run_id}")
        try:
            with self.connections.translated(f"locking pipeline {pipeline}"):
                row = conn.execute(
                    "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))",
                    (f"sluiceway:{pipeline}",),
                ).fetchone()
            if not (row and row[0]):
                raise PipelineLockedError(
                    f"pipeline {pipeline!r} is being run by another process against the "
                    f"warehouse {self.connections.where} (it holds the pipeline's lock there)",
                    pipeline=pipeline,
                    hint="Wait for that run to finish; `SELECT * FROM pg_stat_activity WHERE "
                    "application_name LIKE 'sluiceway run %'` shows it.",
                )
            yield
        finally:
            with contextlib.suppress(Exception):
                conn.close()

    def explain(self, sql: str, *, analyze: bool = False) -> Any:
        """PostgreSQL's plan of ``sql`` as JSON (``EXPLAIN (FORMAT JSON)``); with ``analyze``
        the statement runs (and is rolled back) and the plan has actual times and buffers."""
        options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"

        def run(conn: Any) -> Any:
            row = conn.execute(f"EXPLAIN ({options}) {sql}").fetchone()
            conn.rollback()  # EXPLAIN ANALYZE of a write must not keep it
            return row[0] if row else None

        return self.connections.run(run, "explain")

    def set_state(
        self, pipeline: str, source: str, name: str, value: str | None, *, by: str
    ) -> None:
        def write(conn: Any) -> None:
            key = (pipeline, source, name)
            conn.execute(
                f"DELETE FROM {SCHEMA}.state WHERE pipeline = %s AND source = %s AND name = %s",
                key,
            )
            if value is not None:
                conn.execute(
                    f"INSERT INTO {SCHEMA}.state (pipeline, source, name, value, load_id, "
                    "run_id, updated_at) VALUES (%s, %s, %s, %s, NULL, %s, %s)",
                    (*key, value, by, utcnow()),
                )

        self.connections.run(write, f"changing the state of {source}")

    def sql_runner(self) -> SqlRunner:
        if self._reader is None:
            self._reader = self.connections.take()
            self._reader.autocommit = True
        return PostgresRunner(self._reader, self.connections.translated)

    def _migrate(self, conn: Any) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        for statement in BOOTSTRAP:
            conn.execute(to_postgres(statement, params=False))
        applied = {r[0] for r in conn.execute(f"SELECT version FROM {SCHEMA}.migrations")}
        known = {m.version for m in MIGRATIONS}
        newer = sorted(applied - known)
        if newer:
            raise WarehouseError(
                f"the warehouse {self.connections.where} has bookkeeping version {newer[-1]}, "
                f"newer than this Sluiceway knows ({max(known)})",
                hint="Upgrade Sluiceway to load into this warehouse.",
            )
        for migration in MIGRATIONS:
            if migration.version in applied:
                continue
            for statement in migration.compiled(DIALECT):
                conn.execute(statement)
            conn.execute(
                f"INSERT INTO {SCHEMA}.migrations VALUES (%s, %s, %s)",
                (migration.version, migration.name, utcnow()),
            )


def _end_stream(conn: Any, cursor: Any) -> None:
    """Close a stream's cursor (freeing the result the server holds) and its connection."""
    with contextlib.suppress(Exception):
        if cursor is not None and not conn.closed:
            cursor.close()
            conn.commit()
    with contextlib.suppress(Exception):
        conn.close()
