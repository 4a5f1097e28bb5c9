"""The ``Warehouse`` interface: stage Arrow batches, then commit everything in one transaction.

A load goes through three calls::

    with warehouse.begin(request) as load:   # opens a transaction
        load.stage(reader)                   # rows land in a staging area, target untouched
        result = load.commit(rejects)        # target + DLQ rows + bookkeeping, atomically

Anything that raises before ``commit`` returns — including the process being killed — leaves the
target exactly as it was: the transaction never committed. ``commit`` writes the rows, the
dead-letter rows and the ``_sluiceway.loads`` record in the same transaction, so a load is either
all there or not there at all.

Warehouses declare what they can do as :class:`WarehouseCapabilities`; the engine branches on
those, never on the warehouse's kind.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Self, TypeVar

import pyarrow as pa

from sluiceway.core.errors import ConfigError
from sluiceway.core.names import TableRef
from sluiceway.core.rejects import Reject, RowRejection
from sluiceway.core.retry import RetryPolicy
from sluiceway.quality.sql import SqlRunner
from sluiceway.schema.contract import SchemaChange
from sluiceway.spec.models import WarehouseSpec
from sluiceway.spec.write import DeleteSpec, PartitionSpec, RangePartitionSpec, Scd2Spec

if TYPE_CHECKING:
    import duckdb

WriteDisposition = Literal["append", "replace", "merge", "scd2", "insert_overwrite"]


@dataclass(frozen=True, slots=True)
class WarehouseCapabilities:
    """What a warehouse kind can do."""

    dialect: str  # sqlglot dialect name: SQL built once is transpiled to it
    transactional_ddl: bool  # CREATE/DROP roll back with the transaction
    single_writer: bool  # one process may write at a time (an embedded file)
    default_schema: str  # where an unqualified table lives
    range_partitions: bool = False  # creates tables partitioned by ranges (``partition_by``)


@dataclass(frozen=True, slots=True)
class LoadRequest:
    """One source's rows going into one table."""

    load_id: str
    run_id: str
    pipeline: str
    source: str
    table: TableRef
    write: WriteDisposition
    primary_key: tuple[str, ...] = ()
    lineage: bool = True  # add the ``_sluiceway_load_id`` column
    on_bad_rows: Literal["fail", "dlq"] = "fail"  # rows the load cannot take: error or DLQ
    # Keep staged rows apart from the target until commit, so they can be inspected (row rules).
    # Without it, an append or replace writes straight into the target inside the transaction.
    separate_staging: bool = False
    # DDL the schema contract decided (add, widen, rename, relax), applied inside the transaction.
    schema_changes: tuple[SchemaChange, ...] = ()
    # Dead-letter rows (load_id, seq) this load replays: marked `replayed` when it commits.
    replays: tuple[tuple[str, int], ...] = ()
    # merge / scd2: which staged rows are deletions and what they do (``column`` None: only
    # ``snapshot`` deletes). ``truncate``: the value of ``delete.column`` that empties the table
    # (a CDC source's ``truncate``).
    delete: DeleteSpec | None = None
    snapshot: bool = False  # the staged rows are the whole source: missing keys are deleted
    truncate: str | None = None
    scd2: Scd2Spec | None = None  # write scd2: the history columns and change time
    partition: PartitionSpec | None = None  # write insert_overwrite: the partitions swapped
    # How a table this load creates is partitioned (``range_partitions`` warehouses only).
    partition_by: RangePartitionSpec | None = None
    # An append that replaces a window (a backfill): rows with ``column`` in [start, end) are
    # deleted first. (column, start, end)
    window: tuple[str, Any, Any] | None = None


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What a committed load did."""

    load_id: str
    table: TableRef
    rows_staged: int
    rows_inserted: int
    rows_updated: int
    rows_rejected: int
    started_at: datetime
    finished_at: datetime
    rows_merged: int = 0  # staged rows folded into another row of their key (dedupe, merge)
    rows_unchanged: int = 0  # merged rows equal to the target's row of their key: not rewritten
    rows_deleted: int = 0  # table rows deleted, soft-deleted or (scd2) closed by a deletion;
    #                        for insert_overwrite, the rows of the partitions replaced
    delete_marks: int = 0  # staged rows that were deletions (consumed, not loaded)
    versions_closed: int = 0  # scd2: earlier versions given a valid_to by a newer one
    partitions: int = 0  # insert_overwrite: partitions replaced
    notes: tuple[str, ...] = ()  # what the warehouse did on the way (indexes rebuilt, ...)

    @property
    def rows_loaded(self) -> int:
        return self.rows_inserted + self.rows_updated


@dataclass(frozen=True, slots=True)
class WarehouseContext:
    """Where a warehouse resolves relative paths and keeps its default file."""

    state_dir: Path
    resolve_path: Any  # Callable[[str], Path]; Any keeps the dataclass simple to build in tests


@dataclass(frozen=True, slots=True)
class Relation:
    """Rows inside a load's transaction that quality code may query: the staged rows, or the
    target after the merge. ``runner`` runs sqlglot expressions in the load's transaction."""

    runner: SqlRunner
    table: Any  # sqlglot exp.Table, aliased with the target table's name
    order: Any = None  # sqlglot expression of the rows' arrival order, when known
    hidden: frozenset[str] = frozenset()  # bookkeeping columns (lineage, arrival order)


Verify = Callable[[Relation, LoadResult], None]


@dataclass(frozen=True, slots=True)
class StateValue:
    """One committed state value of a source, and the load that set it."""

    value: str | None  # JSON text
    load_id: str | None
    run_id: str | None
    updated_at: Any  # datetime


class Load(ABC):
    """A load in progress: one open transaction."""

    @abstractmethod
    def stage(self, reader: pa.RecordBatchReader) -> int:
        """Write all batches to the staging area; returns the number of rows staged."""

    @abstractmethod
    def commit(self, rejects: Sequence[Reject], verify: Verify | None = None) -> LoadResult:
        """Merge staged rows into the target, store ``rejects`` in the DLQ, record the load.

        ``verify`` runs after the merge and before COMMIT, on the target inside the
        transaction; if it raises, the load rolls back.
        """

    def staged(self) -> Relation:
        """The staged rows (needs ``LoadRequest.separate_staging``)."""
        raise NotImplementedError(f"{type(self).__name__} cannot expose its staged rows")

    def keep_only(self, query: Any) -> int:
        """Replace the staged rows by ``query`` over them (a dedupe); returns rows removed."""
        raise NotImplementedError(f"{type(self).__name__} cannot rewrite its staged rows")

    def quarantine(self, rejections: Sequence[RowRejection], *, first_seq: int) -> dict[str, int]:
        """Move the staged rows each rejection names to the DLQ, in the load's transaction.
        A row failing several rejections is stored once, under the first one. Returns the rows
        moved per rule (per error class for rejections without a rule)."""
        raise NotImplementedError(f"{type(self).__name__} cannot quarantine staged rows")

    def remember(self, name: str, value: str | None) -> None:
        """Set the source's state ``name`` (a cursor, a watermark) to ``value`` (JSON text)
        when this load commits: in ``_sluiceway.state``, in the same transaction as the rows."""
        updates: dict[str, str | None] = self.__dict__.setdefault("_state_updates", {})
        updates[name] = value

    @property
    def state_updates(self) -> dict[str, str | None]:
        """What :meth:`remember` was told, to be written at commit."""
        updates: dict[str, str | None] = self.__dict__.get("_state_updates", {})
        return updates

    @abstractmethod
    def rollback(self) -> None:
        """Abandon the load; the target is unchanged."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.rollback()


C = TypeVar("C", bound=WarehouseSpec)


class Warehouse(ABC, Generic[C]):
    """One kind of warehouse. Subclasses set ``spec`` and ``capabilities``."""

    spec: ClassVar[type[WarehouseSpec]]
    capabilities: ClassVar[WarehouseCapabilities]

    def __init__(self, config: C, context: WarehouseContext) -> None:
        self.config = config
        self.context = context

    @property
    def retry_policy(self) -> RetryPolicy | None:
        """How often a step whose load lost the warehouse (a transient failure, rolled back)
        runs again, and the backoff between tries; ``None``: never (an embedded file)."""
        return None

    def read_state(self, pipeline: str, source: str) -> dict[str, StateValue]:
        """A source's committed state (``_sluiceway.state``), by name."""
        from sqlglot import exp

        from sluiceway.warehouses.bookkeeping import STATE_TABLE

        state = exp.table_(STATE_TABLE.name, db=STATE_TABLE.schema)
        query = (
            exp.select("name", "value", "load_id", "run_id", "updated_at")
            .from_(state)
            .where(
                exp.and_(
                    exp.column("pipeline").eq(exp.Literal.string(pipeline)),
                    exp.column("source").eq(exp.Literal.string(source)),
                )
            )
        )
        found = self.sql_runner().fetch(query)
        # Zoned timestamps become Python values through pandas: read UTC as naive, then zone.
        times = [
            t.replace(tzinfo=UTC) if t is not None else None
            for t in found.column("updated_at").cast(pa.timestamp("us")).to_pylist()
        ]
        return {
            str(r["name"]): StateValue(r["value"], r["load_id"], r["run_id"], at)
            for r, at in zip(
                found.select(["name", "value", "load_id", "run_id"]).to_pylist(), times, strict=True
            )
        }

    @abstractmethod
    def open(self, *, read_only: bool = False) -> None:
        """Connect (and, when writable, create or upgrade the ``_sluiceway`` bookkeeping)."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def begin(self, request: LoadRequest) -> Load:
        """Start a load: a transaction of its own (after :meth:`check`)."""

    def check(self, request: LoadRequest) -> None:
        """Refuse what this kind cannot do for ``request``, before anything is written."""
        if request.partition_by is not None and not self.capabilities.range_partitions:
            raise ConfigError(
                f"source {request.source!r}: `partition_by` needs a warehouse that partitions "
                f"tables, and {self.describe()} does not",
                hint="Remove `partition_by` (DuckDB prunes by min/max on its own), or load "
                "into PostgreSQL.",
            )

    @abstractmethod
    def table_schema(self, table: TableRef) -> pa.Schema | None:
        """The table's columns as Arrow types, or ``None`` if it does not exist."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pa.Table:
        """Run SQL in the warehouse's dialect; results as Arrow.

        ``params`` binds values: a sequence for positional placeholders, a mapping for named
        ones (``$name`` in DuckDB).
        """

    @property
    def default_schema(self) -> str:
        """Where an unqualified table lives in this warehouse."""
        return self.capabilities.default_schema

    @abstractmethod
    def execute(self, statements: Sequence[str]) -> None:
        """Run statements in the warehouse's dialect in one transaction (DDL included): all
        of them, or none."""

    def stream(self, sql: str, *, batch_size: int) -> pa.RecordBatchReader:
        """A query's rows in batches of at most ``batch_size``. This default materializes the
        result first; a warehouse that can stream from the server overrides it."""
        return self.query(sql).to_reader(max_chunksize=batch_size)

    @abstractmethod
    def create_schema(self, schema: str) -> None:
        """Create ``schema`` if it does not exist, in a transaction of its own; safe when
        parallel steps create the same one at once."""

    def duckdb_cursor(self) -> duckdb.DuckDBPyConnection | None:
        """A DuckDB cursor of this warehouse's own database, for work expressed as DuckDB
        relations (Python transforms); ``None`` when the warehouse is not DuckDB. The caller
        closes it."""
        return None

    def run_lock(self, pipeline: str, *, run_id: str) -> AbstractContextManager[None]:
        """Held while a run of ``pipeline`` loads into this warehouse, whichever machine runs
        it (a shared server's lock); raises :class:`PipelineLockedError` when another run holds
        it. Embedded warehouses have one writer anyway: nothing to hold."""
        return nullcontext()

    def explain(self, sql: str, *, analyze: bool = False) -> Any:
        """The warehouse's query plan of ``sql`` (its own dialect) as JSON data; ``analyze``
        runs the statement to measure it (a write is rolled back)."""
        raise NotImplementedError(f"{type(self).__name__} cannot explain queries")

    def set_state(
        self, pipeline: str, source: str, name: str, value: str | None, *, by: str
    ) -> None:
        """Set (or, with ``None``, delete) one state value outside a load, atomically; ``by``
        says who (``state reset``)."""
        raise NotImplementedError(f"{type(self).__name__} cannot change state outside a load")

    @abstractmethod
    def sql_runner(self) -> SqlRunner:
        """A :class:`SqlRunner` over the open warehouse, outside any load: reads see committed
        data (quality code on demand, such as ``sluiceway profile``)."""

    @abstractmethod
    def describe(self) -> str:
        """Where this warehouse is, for people (never includes secrets)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
