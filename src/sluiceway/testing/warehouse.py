"""The ``faulty_duckdb`` warehouse: a real DuckDB warehouse whose loads fail as a script says.

::

    warehouse:
      type: faulty_duckdb
      path: warehouse.duckdb   # as for `duckdb`; the state folder's file when unset
      script: warehouse        # faults.script("warehouse").fail_warehouse(1, at="commit")
      endpoint: dw.example.com

Everything is DuckDB's own (rows really land, transactions really roll back) except that a
load may raise when it begins or at its commit (:meth:`FaultScript.fail_warehouse`). A commit
failure happens before DuckDB's commit is attempted: the transaction rolls back and nothing of
the load is written, as when a connection drops mid-load.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Literal

import duckdb
import pyarrow as pa
from pydantic import Field

from sluiceway.core.names import TableRef
from sluiceway.core.rejects import Reject, RowRejection
from sluiceway.core.retry import RetryPolicy
from sluiceway.quality.sql import SqlRunner
from sluiceway.spec.models import WarehouseSpec
from sluiceway.testing.faults import FaultScript, faults
from sluiceway.warehouses.base import (
    Load,
    LoadRequest,
    LoadResult,
    Relation,
    StateValue,
    Verify,
    Warehouse,
    WarehouseCapabilities,
    WarehouseContext,
)
from sluiceway.warehouses.duckdb.warehouse import DuckDBSpec, DuckDBWarehouse


class FaultyWarehouseSpec(WarehouseSpec):
    """DuckDB whose loads follow a fault script (``sluiceway.testing``).

    Has every field of ``duckdb`` (``path``, ``memory_limit``, ``threads``) plus ``script``
    and ``endpoint``.
    """

    type: Literal["faulty_duckdb"]
    path: str | None = Field(
        None,
        description="The database file; `warehouse.duckdb` in the state folder when unset. "
        "`:memory:` keeps everything in memory (tests).",
    )
    memory_limit: str | None = Field(
        None, description="DuckDB's memory limit, e.g. `4GB`; DuckDB's default when unset."
    )
    threads: int | None = Field(None, ge=1, description="Worker threads; all cores when unset.")
    script: str = Field(
        "warehouse",
        description='The fault script loads follow: `faults.script("<name>")` in Python.',
    )
    endpoint: str | None = Field(
        None,
        description="The service this warehouse stands for (e.g. `dw.example.com`), for the "
        "engine's concurrency limits and circuit breakers.",
    )

    def duckdb_spec(self) -> DuckDBSpec:
        """The plain ``duckdb`` config this warehouse runs with."""
        shared = {name: getattr(self, name) for name in DuckDBSpec.model_fields if name != "type"}
        return DuckDBSpec.model_validate({**shared, "type": "duckdb"})


class FaultyWarehouse(Warehouse[FaultyWarehouseSpec]):
    """A :class:`DuckDBWarehouse` (``self.duckdb``) whose loads may fail on cue."""

    spec: ClassVar[type[WarehouseSpec]] = FaultyWarehouseSpec
    capabilities: ClassVar[WarehouseCapabilities] = DuckDBWarehouse.capabilities

    def __init__(self, config: FaultyWarehouseSpec, context: WarehouseContext) -> None:
        super().__init__(config, context)
        self.duckdb = DuckDBWarehouse(config.duckdb_spec(), context)

    @property
    def script(self) -> FaultScript:
        """The fault script this warehouse's loads follow."""
        return faults.script(self.config.script)

    def begin(self, request: LoadRequest) -> Load:
        script = self.script
        table = str(request.table)
        script.load_stage("begin", table=table)
        return FaultyLoad(self.duckdb.begin(request), script, table=table)

    # -- DuckDB's own ------------------------------------------------------------------------

    @property
    def path(self) -> str:
        return self.duckdb.path

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        return self.duckdb.connection

    @property
    def retry_policy(self) -> RetryPolicy | None:
        return self.duckdb.retry_policy

    def describe(self) -> str:
        return f"faulty_duckdb:{self.path} (fault script {self.config.script!r})"

    def open(self, *, read_only: bool = False) -> None:
        self.duckdb.open(read_only=read_only)

    def close(self) -> None:
        self.duckdb.close()

    def check(self, request: LoadRequest) -> None:
        self.duckdb.check(request)

    def read_state(self, pipeline: str, source: str) -> dict[str, StateValue]:
        return self.duckdb.read_state(pipeline, source)

    def table_schema(self, table: TableRef) -> pa.Schema | None:
        return self.duckdb.table_schema(table)

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pa.Table:
        return self.duckdb.query(sql, params)

    def execute(self, statements: Sequence[str]) -> None:
        self.duckdb.execute(statements)

    def stream(self, sql: str, *, batch_size: int) -> pa.RecordBatchReader:
        return self.duckdb.stream(sql, batch_size=batch_size)

    def create_schema(self, schema: str) -> None:
        self.duckdb.create_schema(schema)

    def duckdb_cursor(self) -> duckdb.DuckDBPyConnection:
        return self.duckdb.duckdb_cursor()

    def run_lock(self, pipeline: str, *, run_id: str) -> AbstractContextManager[None]:
        return self.duckdb.run_lock(pipeline, run_id=run_id)

    def explain(self, sql: str, *, analyze: bool = False) -> Any:
        return self.duckdb.explain(sql, analyze=analyze)

    def set_state(
        self, pipeline: str, source: str, name: str, value: str | None, *, by: str
    ) -> None:
        self.duckdb.set_state(pipeline, source, name, value, by=by)

    def sql_runner(self) -> SqlRunner:
        return self.duckdb.sql_runner()


class FaultyLoad(Load):
    """A DuckDB load whose commit may fail first (and then rolls the transaction back)."""

    def __init__(self, load: Load, script: FaultScript, *, table: str) -> None:
        self._load = load
        self._script = script
        self._table = table

    def stage(self, reader: pa.RecordBatchReader) -> int:
        return self._load.stage(reader)

    def commit(self, rejects: Sequence[Reject], verify: Verify | None = None) -> LoadResult:
        try:
            self._script.load_stage("commit", table=self._table)
        except BaseException:
            self._load.rollback()  # as a dropped connection would: nothing was committed
            raise
        return self._load.commit(rejects, verify)

    def staged(self) -> Relation:
        return self._load.staged()

    def keep_only(self, query: Any) -> int:
        return self._load.keep_only(query)

    def quarantine(self, rejections: Sequence[RowRejection], *, first_seq: int) -> dict[str, int]:
        return self._load.quarantine(rejections, first_seq=first_seq)

    def remember(self, name: str, value: str | None) -> None:
        self._load.remember(name, value)

    @property
    def state_updates(self) -> dict[str, str | None]:
        return self._load.state_updates

    def rollback(self) -> None:
        self._load.rollback()
