"""Counting batches on their way to the warehouse, and telling everyone how far a step is.

The engine wraps every source's reader: each batch is counted (rows, bytes), the cancel token is
checked, and a ``batch_staged`` event carries the running totals. An exception raised by the
source inside DuckDB's scan reaches us only as text, so the wrapper keeps the original exception
for the engine to re-raise with its type and location intact.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pyarrow as pa

from sluiceway.core.clock import monotonic
from sluiceway.core.events import Event, EventBus, EventKind
from sluiceway.sources.base import CancelToken, ProgressSink


class StepProgress(ProgressSink):
    """What a source reports about its input, read by the counting wrapper."""

    def __init__(self, bus: EventBus, run_id: str, pipeline: str, step: str) -> None:
        self._bus = bus
        self._run_id = run_id
        self._pipeline = pipeline
        self._step = step
        self._lock = threading.Lock()
        self.bytes_total: int | None = None
        self.files_total: int | None = None
        self.bytes_done = 0
        self.files_done = 0
        self.current_file: str | None = None

    def expect(self, total_bytes: int, files: int) -> None:
        with self._lock:
            self.bytes_total = total_bytes
            self.files_total = files

    def consumed(self, bytes_done: int) -> None:
        with self._lock:
            self.bytes_done = max(self.bytes_done, bytes_done)

    def file(self, name: str) -> None:
        with self._lock:
            if self.current_file is not None:
                self.files_done += 1
            self.current_file = name
        self._bus.publish(
            Event(EventKind.FILE_STARTED, self._run_id, self._pipeline, self._step, {"file": name})
        )


class CountingReader:
    """Wraps a source reader: counts, publishes progress, honours cancel, keeps the cause."""

    def __init__(
        self,
        reader: pa.RecordBatchReader,
        *,
        bus: EventBus,
        progress: StepProgress,
        cancel: CancelToken,
        run_id: str,
        pipeline: str,
        step: str,
    ) -> None:
        self._reader = reader
        self._bus = bus
        self._progress = progress
        self._cancel = cancel
        self._run_id = run_id
        self._pipeline = pipeline
        self._step = step
        self.rows = 0
        self.bytes = 0
        self.batches = 0
        self.error: BaseException | None = None
        self.started = monotonic()

    @property
    def schema(self) -> pa.Schema:
        return self._reader.schema

    def reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(self._reader.schema, self._batches())

    def _batches(self) -> Iterator[pa.RecordBatch]:
        try:
            for batch in self._reader:
                self._cancel.check()
                self.rows += batch.num_rows
                self.bytes += batch.nbytes
                self.batches += 1
                self._bus.publish(
                    Event(
                        EventKind.BATCH_STAGED,
                        self._run_id,
                        self._pipeline,
                        self._step,
                        {
                            "batch": self.batches,
                            "batch_rows": batch.num_rows,
                            "rows": self.rows,
                            "arrow_bytes": self.bytes,
                            "input_bytes": self._progress.bytes_done,
                            "input_bytes_total": self._progress.bytes_total,
                            "file": self._progress.current_file,
                            "elapsed_s": monotonic() - self.started,
                        },
                    )
                )
                yield batch
        except BaseException as exc:
            self.error = exc
            raise
