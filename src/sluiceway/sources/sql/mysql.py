"""The ``mysql`` source kind: a MySQL or MariaDB table or query, streamed into Arrow batches.

Registering the kind costs nothing: PyMySQL, sqlglot and the type mapping load on the first
read (:mod:`.mysql_reading`).
"""

from __future__ import annotations

import pyarrow as pa

from sluiceway.sources.base import ReadContext, Source, SourceCapabilities
from sluiceway.sources.sql.catalog import TableInfo
from sluiceway.sources.sql.spec import MySqlSpec


class MySqlSource(Source[MySqlSpec]):
    spec = MySqlSpec
    capabilities = SourceCapabilities(incremental_cursor=True, primary_key=True, schema_hint=True)

    def read(self, ctx: ReadContext) -> pa.RecordBatchReader:
        from sluiceway.sources.sql.mysql_reading import MySqlDriver
        from sluiceway.sources.sql.reading import read_rows

        return read_rows(
            self.config, ctx, lambda: MySqlDriver.connect(self.config.connection.get_secret_value())
        )

    def discover(self) -> TableInfo:
        """The source table as the catalog has it: its columns, primary key and foreign keys
        (see :meth:`sluiceway.sources.sql.postgres.PostgresSource.discover`)."""
        from sluiceway.sources.sql.mysql_reading import MySqlDriver
        from sluiceway.sources.sql.reading import discover

        return discover(
            self.config, lambda: MySqlDriver.connect(self.config.connection.get_secret_value())
        )
