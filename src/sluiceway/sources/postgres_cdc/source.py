"""The ``postgres_cdc`` source kind: a PostgreSQL table followed through its write-ahead log.

Registering the kind costs nothing: psycopg and the log reader load on the first read
(``reading.py``), so pipelines without a change-data source never import them.
"""

from __future__ import annotations

import pyarrow as pa

from sluiceway.core.names import OP_COLUMN
from sluiceway.sources.base import ReadContext, Source, SourceCapabilities
from sluiceway.sources.postgres_cdc.spec import PostgresCdcSpec


class PostgresCdcSource(Source[PostgresCdcSpec]):
    spec = PostgresCdcSpec
    capabilities = SourceCapabilities(
        primary_key=True,
        schema_hint=True,
        keeps_state=True,
        change_op_column=OP_COLUMN,
    )

    def read(self, ctx: ReadContext) -> pa.RecordBatchReader:
        from sluiceway.sources.postgres_cdc.reading import CdcReader

        return CdcReader(self.config).read(ctx)
