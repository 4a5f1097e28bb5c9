"""The ``faulty`` source: deterministic rows that fail, stall or call back as a script says.

::

    sources:
      orders:
        type: faulty
        rows: 10000          # id 1..10000, value, updated_at
        script: orders_api   # faults.script("orders_api") decides what goes wrong
        endpoint: api.example.com

Rows are the same on every read: ``id`` (int64, 1 to ``rows``), ``value`` (``"value-<id>"``)
and ``updated_at`` (UTC, ``id`` minutes after 2024-01-01), in batches of the source's
``batch_size``. The read checks its run's cancel token after every batch it yields.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
from pydantic import Field

from sluiceway.sources.base import ReadContext, Source, SourceCapabilities
from sluiceway.spec.models import SourceSpec
from sluiceway.testing.faults import faults

SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64()),
        pa.field("value", pa.string()),
        pa.field("updated_at", pa.timestamp("us", tz="UTC")),
    ]
)
EPOCH_US = 1_704_067_200_000_000  # 2024-01-01T00:00:00Z in microseconds
MINUTE_US = 60_000_000
ROW_BYTES = 32  # about what a row takes in Arrow: what progress reports as the input's size


class FaultySourceSpec(SourceSpec):
    """Generated rows whose reads follow a fault script (``sluiceway.testing``)."""

    type: Literal["faulty"]
    rows: int = Field(
        1000,
        ge=0,
        description="How many rows a read yields: `id` 1 to `rows`, `value`, `updated_at`.",
    )
    script: str = Field(
        description="The fault script that decides what goes wrong: "
        '`faults.script("<name>")` in Python.'
    )
    endpoint: str | None = Field(
        None,
        description="The service this source stands for (e.g. `api.example.com`): steps on "
        "one endpoint share its concurrency limit and circuit breaker.",
    )


def faulty_rows(count: int) -> pa.Table:
    """The rows a ``faulty`` source with ``rows: count`` yields, to compare a table with."""
    return pa.Table.from_batches([rows_batch(1, count)], schema=SCHEMA)


def rows_batch(first: int, count: int) -> pa.RecordBatch:
    """``count`` rows of a ``faulty`` source from id ``first`` on."""
    ids = np.arange(first, first + count, dtype=np.int64)
    return pa.RecordBatch.from_arrays(
        [
            pa.array(ids, type=pa.int64()),
            pa.array([f"value-{i}" for i in ids.tolist()], type=pa.string()),
            pa.array(EPOCH_US + ids * MINUTE_US, type=SCHEMA.field("updated_at").type),
        ],
        schema=SCHEMA,
    )


class FaultySource(Source[FaultySourceSpec]):
    spec: ClassVar[type[SourceSpec]] = FaultySourceSpec
    capabilities: ClassVar[SourceCapabilities] = SourceCapabilities(schema_hint=True)

    def read(self, ctx: ReadContext) -> pa.RecordBatchReader:
        ctx.progress.expect(self.config.rows * ROW_BYTES, 1)
        return pa.RecordBatchReader.from_batches(SCHEMA, self._batches(ctx))

    def _batches(self, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
        config = self.config
        size = ctx.batch_size
        count = -(-config.rows // size)  # ceiling division
        with faults.script(config.script).reading(endpoint=config.endpoint) as read:
            ctx.progress.file(f"faulty:{config.script}")
            for index in range(count):
                read.boundary(index, last=False, cancel=ctx.cancel)
                first = index * size + 1
                batch_rows = min(size, config.rows - first + 1)
                yield rows_batch(first, batch_rows)
                read.yielded(index)
                ctx.progress.consumed((first + batch_rows - 1) * ROW_BYTES)
                ctx.cancel.check()  # a batch boundary
            read.boundary(count, last=True, cancel=ctx.cancel)
