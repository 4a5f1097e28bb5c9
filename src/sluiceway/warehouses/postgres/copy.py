"""Arrow batches into a PostgreSQL table by binary COPY, encoded in Rust by pgpq.

Each batch is conformed to the binary layout of its column types (see :mod:`.types`), encoded,
and written to the COPY stream as it arrives: memory holds one batch at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from sluiceway.core.sql_quoting import quote_identifier as q
from sluiceway.warehouses.postgres.types import Conformer

if TYPE_CHECKING:
    import psycopg
    from pgpq import ArrowToPostgresBinaryEncoder


def encoder_for(conformer: Conformer) -> ArrowToPostgresBinaryEncoder:
    from pgpq import ArrowToPostgresBinaryEncoder
    from pgpq.encoders import StringEncoderBuilder
    from pgpq.schema import Jsonb

    if not conformer.jsonb_columns:
        return ArrowToPostgresBinaryEncoder(conformer.schema)
    builders: dict[str, Any] = {}
    for index, field in enumerate(conformer.schema):
        if index in conformer.jsonb_columns:
            builders[field.name] = StringEncoderBuilder.new_with_output(field, Jsonb())
        else:
            builders[field.name] = ArrowToPostgresBinaryEncoder.infer_encoder(field)
    return ArrowToPostgresBinaryEncoder.new_with_encoders(conformer.schema, builders)


def copy_batches(
    conn: psycopg.Connection[Any],
    reader: pa.RecordBatchReader,
    table: str,
    *,
    lineage: tuple[str, str] | None,
) -> int:
    """COPY every batch of ``reader`` into ``table`` (PostgreSQL SQL text); ``lineage`` =
    (column, value) adds a constant column. Returns the rows written."""
    schema = reader.schema
    if lineage is not None:
        schema = schema.append(pa.field(lineage[0], pa.string()))
    conformer = Conformer(schema)
    encoder = encoder_for(conformer)
    columns = ", ".join(q(name) for name in schema.names)
    rows = 0
    with (
        conn.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.write(encoder.write_header())
        for read in reader:
            batch = read
            if lineage is not None:
                constant = pa.repeat(pa.scalar(lineage[1], pa.string()), read.num_rows)
                batch = pa.RecordBatch.from_arrays(
                    [*read.columns, constant], schema=read.schema.append(schema.field(-1))
                )
            copy.write(encoder.write_batch(conformer(batch)))
            rows += batch.num_rows
        copy.write(encoder.finish())
    return rows
