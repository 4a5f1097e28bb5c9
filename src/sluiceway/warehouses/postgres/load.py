"""One load into PostgreSQL: binary COPY of Arrow batches, then the shared merge SQL.

Rows arrive by ``COPY … FROM STDIN (FORMAT BINARY)``, encoded from Arrow by pgpq (never
row-by-row INSERTs): straight into the target for an append or replace whose column types match
the batches', otherwise into an UNLOGGED table in ``_sluiceway_staging`` from which the
:class:`StagedLoad` SQL merges. Everything happens in one transaction on one pooled connection,
so a failure at any point — the source breaking mid-COPY, the server dropping the connection —
rolls it all back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from sluiceway.core.errors import ConfigError
from sluiceway.core.ids import new_id
from sluiceway.core.names import LOAD_ID_COLUMN, TableRef
from sluiceway.core.rejects import Reject
from sluiceway.core.sql_quoting import quote_identifier as q
from sluiceway.quality.sql import SqlRunner
from sluiceway.warehouses import sql_builders as sb
from sluiceway.warehouses.base import LoadRequest, LoadResult, Verify
from sluiceway.warehouses.postgres import indexes, partitions
from sluiceway.warehouses.postgres.copy import copy_batches
from sluiceway.warehouses.postgres.sql import PostgresRunner, to_postgres
from sluiceway.warehouses.postgres.types import column_type
from sluiceway.warehouses.staged_load import SQL_DIALECT, StagedLoad, numbered

if TYPE_CHECKING:
    import psycopg

    from sluiceway.warehouses.postgres.connection import Connections
    from sluiceway.warehouses.postgres.spec import PostgresSpec


class PostgresLoad(StagedLoad):
    def __init__(
        self, connections: Connections, config: PostgresSpec, request: LoadRequest
    ) -> None:
        self.default_schema = config.default_schema
        self._connections = connections
        self._config = config
        self._conn: psycopg.Connection[Any] | None = connections.take()
        self._indexes = indexes.Rebuild()
        super().__init__(request)

    @property
    def conn(self) -> psycopg.Connection[Any]:
        assert self._conn is not None, "the load is over"
        return self._conn

    # -- staging -------------------------------------------------------------------------------

    def stage(self, reader: pa.RecordBatchReader) -> int:
        self._apply_schema_changes()
        lineage = self._request.load_id if self._request.lineage else None
        if not self._direct:
            reader = numbered(reader)
            staging = sb.table(self._staging, self.default_schema)
            self._create(staging, _with_lineage(reader.schema, lineage), unlogged=True)
            self._staged = self._copy(reader, staging, lineage)
            return self._staged
        schema = _with_lineage(reader.schema, lineage)
        if not self._exists(self._request.table):
            self._create(self._target, schema, partitioned=True)
        elif self._request.write == "replace":
            self._run(f"TRUNCATE {self._target.sql(SQL_DIALECT)}")
        else:
            self._window_deleted = self._changes().clear_window()
        self._rebuild_indexes_later()
        if self._request.partition_by is None and self._fits(schema):
            self._staged = self._copy(reader, self._target, lineage)
            return self._staged
        # The table's types differ from the batches' (a column widened earlier, a narrower
        # source type): COPY into staging, then let INSERT … SELECT cast.
        staging = sb.table(self._staging, self.default_schema)
        self._create(staging, schema, unlogged=True)
        self._staged = self._copy(reader, staging, lineage)
        self._partitions_for(staging)
        columns = ", ".join(q(c) for c in schema.names)
        self._run(
            f"INSERT INTO {self._target.sql(SQL_DIALECT)} ({columns}) "
            f"SELECT {columns} FROM {staging.sql(SQL_DIALECT)}"
        )
        self._execute(sb.drop_table(staging))
        return self._staged

    def _create(
        self,
        table: exp.Table,
        schema: pa.Schema,
        *,
        unlogged: bool = False,
        partitioned: bool = False,
    ) -> None:
        types = {f.name: column_type(f.type) for f in schema}
        columns = ", ".join(f"{q(name)} {type_}" for name, type_ in types.items())
        kind = "UNLOGGED TABLE" if unlogged else "TABLE"
        spec = self._request.partition_by if partitioned else None
        layout = "" if spec is None else " " + partitions.clause(spec, types)
        self._pg(f"CREATE {kind} {table.sql('postgres')} ({columns}){layout}")
        if spec is not None:
            with self._connections.translated(f"partitioning {self._request.table}"):
                partitions.create_default(self.conn, *self._schema_and_name())

    def _schema_and_name(self) -> tuple[str, str]:
        table = self._request.table
        return table.schema or self.default_schema, table.name

    def _partitions_for(self, rows: exp.Table) -> None:
        """Create the partitions the rows of ``rows`` fall in (``partition_by`` only)."""
        spec = self._request.partition_by
        if spec is None:
            return
        schema, name = self._schema_and_name()
        with self._connections.translated(f"partitioning {self._request.table}"):
            created = partitions.ensure(
                self.conn, spec, schema=schema, table=name, rows=rows.sql("postgres")
            )
        if created:
            self.notes.append(f"partitions created: {', '.join(created)}")

    def _fits(self, schema: pa.Schema) -> bool:
        """Whether batches of ``schema`` can be COPYed in binary straight into the target."""
        held = self._types(self._request.table)
        wanted = {f.name: _spelled(column_type(f.type)) for f in schema}
        return all(name in held and held[name] == type_ for name, type_ in wanted.items())

    def _copy(self, reader: pa.RecordBatchReader, table: exp.Table, lineage: str | None) -> int:
        with self._connections.translated(f"loading {self._request.table}"):
            return copy_batches(
                self.conn,
                reader,
                table.sql("postgres"),
                lineage=(LOAD_ID_COLUMN, lineage) if lineage is not None else None,
            )

    def _rebuild_indexes_later(self) -> None:
        if self._config.index_strategy == "rebuild":
            with self._connections.translated(f"dropping the indexes of {self._request.table}"):
                self._indexes.drop(self.conn, self._request.table, self.default_schema)

    def _create_target(self, staging: exp.Table, columns: list[str]) -> None:
        """The target of a merge, scd2 or staged write: the staged columns' types, and the
        requested partitioning."""
        if self._request.partition_by is None:
            super()._create_target(staging, columns)
            return
        types = self._types(self._staging)
        listed = ", ".join(f"{q(c)} {types[c]}" for c in columns)
        clause = partitions.clause(self._request.partition_by, {c: types[c] for c in columns})
        self._pg(f"CREATE TABLE {self._target.sql('postgres')} ({listed}) {clause}")
        with self._connections.translated(f"partitioning {self._request.table}"):
            partitions.create_default(self.conn, *self._schema_and_name())
        self._partitions_for(staging)

    def commit(self, rejects: Sequence[Reject], verify: Verify | None = None) -> LoadResult:
        if not self._direct:
            # Partitions first: the merge's INSERTs must find one for every row.
            if self._exists(self._request.table):
                self._partitions_for(sb.table(self._staging, self.default_schema))
                self._rebuild_indexes_later()  # a merge rewrites rows too
            elif self._request.partition_by is not None and self._request.write == "scd2":
                raise ConfigError(
                    f"`partition_by` cannot create the history table {self._request.table} "
                    "yet (write: scd2)",
                    hint="Create the partitioned table first, or load without `partition_by`.",
                )
        return super().commit(rejects, verify)

    # -- primitives ----------------------------------------------------------------------------

    def _pg(self, sql: str, params: Any = None) -> psycopg.Cursor[Any]:
        """Run PostgreSQL text as it is."""
        with self._connections.translated(f"loading {self._request.table}"):
            return self.conn.execute(sql, params)

    def _count(self, sql: str, params: dict[str, Any]) -> int:
        text = to_postgres(sql, params=bool(params))
        cursor = self._pg(text, params or None)
        if cursor.description:
            row = cursor.fetchone()
            value = row[0] if row else None
            return int(value) if value is not None else 0
        return max(int(cursor.rowcount), 0)

    def _fetch(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        cursor = self._pg(to_postgres(sql, params=bool(params)), params or None)
        return list(cursor.fetchall())

    def _types(self, ref: TableRef) -> dict[str, str]:
        rows = self._pg(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum",
            (ref.schema or self.default_schema, ref.name),
        ).fetchall()
        return {str(r[0]): str(r[1]).upper() for r in rows}

    @contextlib.contextmanager
    def _rows_view(self, rows: pa.Table) -> Iterator[str]:
        name = q(f"__sluiceway_rows_{new_id().lower()}")
        columns = ", ".join(f"{q(f.name)} {column_type(f.type)}" for f in rows.schema)
        self._pg(f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP")
        with self._connections.translated(f"loading {self._request.table}"):
            copy_batches(self.conn, rows.to_reader(), name, lineage=None)
        yield name
        self._pg(f"DROP TABLE {name}")

    def _runner(self) -> SqlRunner:
        return PostgresRunner(self.conn, self._connections.translated)

    def _commit_transaction(self) -> None:
        with self._connections.translated(f"committing the load into {self._request.table}"):
            self.conn.commit()
        self._release()

    def _before_finish(self) -> None:
        with self._connections.translated(f"rebuilding the indexes of {self._request.table}"):
            self.notes.extend(self._indexes.restore(self.conn))

    def _abort(self) -> None:
        self._release()

    def _release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            self._connections.give_back(conn)


def _with_lineage(schema: pa.Schema, lineage: str | None) -> pa.Schema:
    return schema if lineage is None else schema.append(pa.field(LOAD_ID_COLUMN, pa.string()))


def _spelled(pg_type: str) -> str:
    """A type as ``format_type`` writes it, upper-cased (what :meth:`_types` returns)."""
    long_names = {
        "TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE",
        "TIMESTAMP": "TIMESTAMP WITHOUT TIME ZONE",
        "TIME": "TIME WITHOUT TIME ZONE",
    }
    return long_names.get(pg_type, pg_type)
