"""The ``postgres`` source kind: a PostgreSQL table or query, streamed into Arrow batches.

Registering the kind costs nothing: psycopg, sqlglot and the type mapping load on the first
read (:mod:`.pg_reading`), so pipelines without a PostgreSQL source never import them.
"""

from __future__ import annotations

import pyarrow as pa

from sluiceway.sources.base import ReadContext, Source, SourceCapabilities
from sluiceway.sources.sql.catalog import TableInfo
from sluiceway.sources.sql.spec import PostgresSpec


class PostgresSource(Source[PostgresSpec]):
    spec = PostgresSpec
    capabilities = SourceCapabilities(incremental_cursor=True, primary_key=True, schema_hint=True)

    def read(self, ctx: ReadContext) -> pa.RecordBatchReader:
        from sluiceway.sources.sql.pg_reading import PgDriver
        from sluiceway.sources.sql.reading import read_rows

        return read_rows(
            self.config, ctx, lambda: PgDriver.connect(self.config.connection.get_secret_value())
        )

    def discover(self) -> TableInfo:
        """The source table as the catalog has it: its columns, primary key and foreign keys.

        The engine does not call it: a pipeline states its ``primary_key``. It is there for
        tools that derive configuration from the database (a key to merge on, the order in
        which to load tables that refer to each other). A ``query`` source has no table: a
        ``ConfigError``.
        """
        from sluiceway.sources.sql.pg_reading import PgDriver
        from sluiceway.sources.sql.reading import discover

        return discover(
            self.config, lambda: PgDriver.connect(self.config.connection.get_secret_value())
        )
