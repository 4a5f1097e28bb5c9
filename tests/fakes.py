"""Fakes for extension points: a source that yields given rows and can fail on cue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Literal

import pyarrow as pa
from pydantic import Field

from sluiceway.core.errors import Location, MalformedInputError
from sluiceway.sources.base import ReadContext, Source
from sluiceway.spec.models import SourceSpec

# Rows of every fake source, by name; tests put rows here before running a pipeline.
FAKE_ROWS: dict[str, list[dict[str, Any]]] = {}


class FakeSpec(SourceSpec):
    """Rows from ``FAKE_ROWS[dataset]``; optionally raise after ``fail_after_batches``."""

    type: Literal["fake"]
    dataset: str
    fail_after_batches: int | None = Field(None, ge=0)


class FakeSource(Source[FakeSpec]):
    spec: ClassVar[type[SourceSpec]] = FakeSpec

    def read(self, ctx: ReadContext) -> pa.RecordBatchReader:
        table = pa.Table.from_pylist(FAKE_ROWS[self.config.dataset])
        ctx.progress.expect(table.nbytes, 1)
        return pa.RecordBatchReader.from_batches(table.schema, self._batches(table, ctx))

    def _batches(self, table: pa.Table, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
        ctx.progress.file(self.config.dataset)
        fail_after = self.config.fail_after_batches
        for index, batch in enumerate(table.to_batches(max_chunksize=ctx.batch_size)):
            if fail_after is not None and index >= fail_after:
                raise MalformedInputError(
                    "injected failure", location=Location(file=self.config.dataset, line=index)
                )
            yield batch
            ctx.cancel.check()
