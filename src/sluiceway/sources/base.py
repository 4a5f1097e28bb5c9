"""The ``Source`` interface: a config in, a stream of Arrow record batches out.

A source is built from its config (a :class:`~sluiceway.spec.SourceSpec` subclass with a ``type``
literal) and read with a :class:`ReadContext`. ``read`` returns a ``pyarrow.RecordBatchReader``:
the schema is known before the first batch and every batch has it, batches hold at most
``ctx.batch_size`` rows, so memory stays flat whatever the input size.

Rows a source can read but not parse (a CSV line with too many fields) are not in the stream:
with ``on_bad_rows: dlq`` they are handed to :meth:`ReadContext.reject` and end in the
dead-letter queue in the same transaction as the good rows; with ``fail`` the source raises.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import pyarrow as pa

from sluiceway.core.errors import CancelledError, SluicewayError
from sluiceway.core.rejects import Reject
from sluiceway.spec.models import SourceSettings, SourceSpec


@dataclass(frozen=True, slots=True)
class SourceCapabilities:
    """What a source kind can do, as data the engine branches on."""

    incremental_cursor: bool = False  # can resume from a committed cursor value
    primary_key: bool = False  # knows its key (a database table) without configuration
    schema_hint: bool = False  # knows its schema before reading any row
    streaming: bool = False  # unbounded: reads until stopped
    # Keeps its own position between runs (a replication slot's LSN): reads ``ReadContext.state``
    # and hands the new position to ``ReadContext.remember``, committed with the rows.
    keeps_state: bool = False
    # Its rows are changes: this column says ``insert``, ``update`` or ``delete`` (CDC), and a
    # merge or scd2 applies deletes from it unless the source's ``delete`` says otherwise.
    change_op_column: str | None = None


class ProgressSink:
    """Where a source says how much of its input it has consumed (for progress bars)."""

    def expect(self, total_bytes: int, files: int) -> None:
        """The input's total size on disk and the number of files, once known."""

    def consumed(self, bytes_done: int) -> None:
        """An estimate of the input bytes consumed so far (monotonic)."""

    def file(self, name: str) -> None:
        """The source moved on to ``name``."""


class NothingNew(Exception):
    """The source has nothing new to read (no new files, no new changes): the step succeeds
    without a load. The message says why, for the run report."""


class CancelToken:
    """Checked by sources and the engine at batch boundaries; set from another thread.

    It also pauses: :meth:`check` blocks while the token (or its parent) is paused, until it
    is resumed or cancelled, so a paused run holds still between two batches. A step's token
    is a child of its run's: cancelling or pausing the run reaches every step, and a step's
    timeout (:meth:`expire`) stops only that step.
    """

    _POLL_S = 0.05

    def __init__(self, parent: CancelToken | None = None) -> None:
        self._event = threading.Event()
        self._running = threading.Event()  # cleared while paused
        self._running.set()
        self._parent = parent
        self.reason = "cancelled"
        self._error: SluicewayError | None = None

    def cancel(self, reason: str = "cancelled") -> None:
        self.reason = reason
        self._event.set()

    def expire(self, error: SluicewayError) -> None:
        """Stop the holder at its next check with ``error`` (a step's timeout)."""
        self._error = error
        self.reason = error.message
        self._event.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set() or (self._parent is not None and self._parent.cancelled)

    @property
    def paused(self) -> bool:
        mine = not self._running.is_set()
        return mine or (self._parent is not None and self._parent.paused)

    def check(self) -> None:
        """Raise if cancelled; while paused, wait (still cancellable) until resumed."""
        self._raise_if_cancelled()
        while self.paused:
            self.wait_resumed(self._POLL_S)
            self._raise_if_cancelled()

    def wait_resumed(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a paused token to resume; True if running."""
        token: CancelToken | None = self
        while token is not None:
            if not token._running.is_set():
                return token._running.wait(timeout)
            token = token._parent
        return True

    def _raise_if_cancelled(self) -> None:
        if self._parent is not None:
            self._parent._raise_if_cancelled()
        if self._event.is_set():
            if self._error is not None:
                raise self._error
            raise CancelledError(f"run {self.reason}")


@dataclass(frozen=True, slots=True)
class CursorBounds:
    """The cursor values an incremental read needs, for a source that can filter where it reads.

    A database source puts them in its ``WHERE`` (as bound parameters), so a large table is not
    shipped row by row only for the engine to drop what an earlier load took. It is a pre-filter
    and may be ignored: the engine's own cursor filter still runs on every batch, exactly, and
    tracks the largest value. A source must therefore never filter *more* than this says.

    The rows wanted have ``column`` at or past ``lower`` (past it only, when not
    ``lower_inclusive``) and before ``upper`` (exclusive); ``None`` means no bound on that side.
    Values are Python values: ``int``, ``float``, ``date`` or ``datetime`` (naive, or aware for
    a zoned cursor). Rows whose cursor is NULL are wanted only when there is no lower bound.
    """

    column: str
    lower: Any = None
    lower_inclusive: bool = True
    upper: Any = None

    @property
    def keeps_nulls(self) -> bool:
        """Whether rows with a NULL cursor are wanted (a read without a lower bound)."""
        return self.lower is None


@dataclass
class ReadContext:
    """What a source needs to read: its settings, where paths resolve, where rejects go."""

    pipeline: str
    run_id: str
    load_id: str
    settings: SourceSettings
    resolve_path: Callable[[str], Path]
    display_path: Callable[[Path], str]
    progress: ProgressSink = field(default_factory=ProgressSink)
    cancel: CancelToken = field(default_factory=CancelToken)
    rejects: list[Reject] = field(default_factory=list)
    tracker: Any = None  # a FileTracker when the source reads only new files
    # A stateful source's committed state by name (JSON text), as its last load left it.
    state: dict[str, str | None] = field(default_factory=dict)
    # What the source wants remembered: written to ``_sluiceway.state`` with the rows.
    remembered: dict[str, str | None] = field(default_factory=dict)
    # Called once the load has committed (e.g. to confirm a replication slot's position).
    # A failure there is reported, not fatal: the committed state makes the next run skip
    # what this one loaded.
    on_commit: list[Callable[[], None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # for the run report (where a cursor stands)
    # An incremental read's cursor bounds, for a source that filters where it reads (SQL).
    cursor: CursorBounds | None = None

    def files(self, patterns: str | Sequence[str]) -> list[Path]:
        """The files a file source reads: every match, or those no load read yet."""
        from sluiceway.sources.files.paths import expand

        found = expand(patterns, self.resolve_path)
        return self.tracker.select(found) if self.tracker is not None else found

    @property
    def batch_size(self) -> int:
        return self.settings.batch_size

    @property
    def lineage(self) -> bool:
        return self.settings.lineage

    def reject(self, reject: Reject) -> None:
        self.rejects.append(reject)

    def remember(self, name: str, value: str | None) -> None:
        """Keep ``value`` (JSON text) as state ``name``, committed with this load's rows."""
        self.remembered[name] = value


C = TypeVar("C", bound=SourceSpec)


class Source(ABC, Generic[C]):
    """One kind of source. Subclasses set ``spec`` (their config model) and ``capabilities``."""

    spec: ClassVar[type[SourceSpec]]
    capabilities: ClassVar[SourceCapabilities] = SourceCapabilities()

    def __init__(self, config: C) -> None:
        self.config = config

    @abstractmethod
    def read(self, ctx: ReadContext) -> pa.RecordBatchReader:
        """Open the input and return a reader of bounded-size batches with one schema."""
