"""Run a pipeline: each source is one step, Source → Contract → Stage → Commit.

The steps form a DAG (:mod:`sluiceway.engine.dag`) that :mod:`sluiceway.engine.executor` runs
in parallel within limits. A failed step rolls back its own load; the steps that need it are
skipped and the others still run, so one bad file does not hold back unrelated tables. A step
that fails with a transient error is tried again under its retry policy, unless the circuit
breaker of the endpoint it blames opens (:mod:`sluiceway.engine.breakers`). Everything the runner
does is published as events; the progress display, the JSON log and the metadata store listen.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from sluiceway.core.clock import monotonic, utcnow
from sluiceway.core.durations import format_duration
from sluiceway.core.endpoints import endpoint_of
from sluiceway.core.errors import (
    CancelledError,
    CircuitOpenError,
    ConfigError,
    ErrorClass,
    SluicewayError,
    StepTimeoutError,
    WarehouseUnavailableError,
    classify,
)
from sluiceway.core.events import Event, EventBus, EventKind
from sluiceway.core.ids import new_id
from sluiceway.core.names import COMMIT_TS_COLUMN, LOAD_ID_COLUMN, TableRef
from sluiceway.core.rejects import Reject
from sluiceway.core.retry import RetryPolicy
from sluiceway.core.sql_types import sql_type
from sluiceway.core.status import RunStatus, StepStatus
from sluiceway.engine.breakers import CircuitBreakers, InMemoryBreakerStore, blamed_endpoint
from sluiceway.engine.checks import LoadChecks
from sluiceway.engine.dag import Dag, build_dag, discover_foreign_keys, select_steps
from sluiceway.engine.executor import StepExecutor
from sluiceway.engine.incremental import CURSOR_STATE, Backfill, Cursor, Tracking
from sluiceway.engine.model_steps import (
    compiled,
    model_query,
    model_rows,
    model_settings,
    view_statements,
)
from sluiceway.engine.periods import PERIODS_STATE
from sluiceway.engine.progress import CountingReader, StepProgress
from sluiceway.engine.registry import Registry
from sluiceway.engine.replay import SourceReplay, replay_reader
from sluiceway.engine.run_lock import PipelineLock
from sluiceway.quality.cleaning import Cleaner
from sluiceway.quality.history import InMemoryQualityLog, QualityLog
from sluiceway.schema.contract import ContractPlan, plan_contract, resolve_placeholders
from sluiceway.schema.diff import diff
from sluiceway.schema.model import TableSchema
from sluiceway.schema.registry import InMemorySchemaRegistry, SchemaRegistry, registered
from sluiceway.schema.transform import BatchTransform
from sluiceway.sources.base import CancelToken, NothingNew, ReadContext, SourceCapabilities
from sluiceway.sources.files.tracking import FILES_STATE, FileTracker
from sluiceway.spec.execution import RetrySpec
from sluiceway.spec.loader import LoadedPipeline
from sluiceway.spec.models import SourceSettings
from sluiceway.spec.write import DeleteSpec, Scd2Spec
from sluiceway.transform.models import Model, discover_models
from sluiceway.transform.python import declared_lineage
from sluiceway.warehouses.base import LoadRequest, LoadResult, Warehouse, WarehouseContext


@dataclass
class StepResult:
    """What one step did, whether it succeeded or not."""

    name: str
    table: str
    status: StepStatus
    rows_read: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_rejected: int = 0
    rows_unchanged: int = 0  # merged rows equal to the table's: not rewritten
    rows_deleted: int = 0  # table rows deleted or closed by deletions, or in overwritten partitions
    bytes_in: int = 0
    duration_s: float = 0.0
    load_id: str | None = None
    error: BaseException | None = None
    schema_version: int | None = None  # the table's new schema version, if this load made one
    schema_notes: tuple[str, ...] = ()  # what the contract did (columns added, variants, ...)
    quality: dict[str, Any] | None = None  # score, rules run and failed, rows quarantined
    notes: tuple[str, ...] = ()  # what incremental reading did (cursor, rows skipped)
    attempts: int = 1  # tries: a transient failure runs the step again under its retry policy

    @property
    def rows_loaded(self) -> int:
        return self.rows_inserted + self.rows_updated

    def committed(self, loaded: LoadResult, *, notes: tuple[str, ...] = ()) -> None:
        """The step's load committed: take its counts."""
        done = []
        if loaded.versions_closed:
            done.append(f"{loaded.versions_closed:,} earlier version(s) closed")
        if loaded.partitions:
            done.append(
                f"{loaded.partitions:,} partition(s) overwritten ({loaded.rows_deleted:,} "
                "row(s) replaced)"
            )
        elif loaded.rows_deleted:
            done.append(f"{loaded.rows_deleted:,} row(s) deleted")
        self.notes = (*notes, *done)
        self.status = StepStatus.SUCCEEDED
        self.rows_deleted = loaded.rows_deleted
        self.load_id = loaded.load_id
        self.rows_inserted = loaded.rows_inserted
        self.rows_updated = loaded.rows_updated
        self.rows_rejected = loaded.rows_rejected
        self.rows_unchanged = loaded.rows_unchanged

    def finished_early(self, why: str) -> None:
        """Nothing to load (an incremental source found no new files): done, no load."""
        self.status = StepStatus.SUCCEEDED
        self.notes = (why,)

    @property
    def rows_per_s(self) -> float:
        return self.rows_read / self.duration_s if self.duration_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.name,
            "table": self.table,
            "status": self.status.value,
            "rows_read": self.rows_read,
            "rows_inserted": self.rows_inserted,
            "rows_updated": self.rows_updated,
            "rows_rejected": self.rows_rejected,
            "rows_unchanged": self.rows_unchanged,
            "rows_deleted": self.rows_deleted,
            "bytes_in": self.bytes_in,
            "duration_s": round(self.duration_s, 3),
            "rows_per_s": round(self.rows_per_s, 1),
            "load_id": self.load_id,
            "schema_version": self.schema_version,
            "schema_notes": list(self.schema_notes),
            "notes": list(self.notes),
            "attempts": self.attempts,
            "quality": self.quality,
            "error": error_text(self.error) if self.error else None,
            "error_class": classify(self.error).value if self.error else None,
        }


@dataclass
class RunResult:
    run_id: str
    pipeline: str
    status: RunStatus
    started_at: datetime
    finished_at: datetime
    steps: list[StepResult] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def duration_s(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def rows_read(self) -> int:
        return sum(s.rows_read for s in self.steps)

    @property
    def rows_loaded(self) -> int:
        return sum(s.rows_loaded for s in self.steps)

    @property
    def rows_rejected(self) -> int:
        return sum(s.rows_rejected for s in self.steps)

    @property
    def failed_steps(self) -> list[StepResult]:
        return [s for s in self.steps if s.status is StepStatus.FAILED]

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "status": self.status.value,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "duration_s": round(self.duration_s, 3),
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "error": error_text(self.error) if self.error else None,
            "steps": [s.as_dict() for s in self.steps],
        }


def error_text(error: BaseException) -> str:
    if isinstance(error, SluicewayError):
        return error.render()
    return f"unexpected {type(error).__name__}: {error}"


class PipelineRunner:
    """Runs one pipeline once."""

    def __init__(
        self,
        pipeline: LoadedPipeline,
        *,
        registry: Registry,
        bus: EventBus,
        cancel: CancelToken | None = None,
        trigger: str = "cli",
        schemas: SchemaRegistry | None = None,
        quality: QualityLog | None = None,
        replay: Mapping[str, SourceReplay] | None = None,
        backfill: Backfill | None = None,
        sleep: Callable[[float], None] = time.sleep,
        breakers: CircuitBreakers | None = None,
        rng: random.Random | None = None,
        restart_of: str | None = None,
        lock_wait: float = 0.0,
    ) -> None:
        self.pipeline = pipeline
        self.sleep = sleep  # waits between attempts (tests inject a clock)
        self.rng = rng  # the retry jitter (tests make it deterministic)
        execution = pipeline.spec.execution
        self.breakers = breakers or CircuitBreakers(InMemoryBreakerStore(), execution.breaker)
        self.restart_of = restart_of  # the run whose unfinished steps this one re-runs
        self.lock_wait = lock_wait  # seconds to wait for another run of the pipeline to end
        self.dag: Dag | None = None
        self.models: dict[str, Model] = {}  # the pipeline's models, by name
        self._lineage_sql: dict[str, str | None] = {}  # a built model's SQL, traced for lineage
        self._steps: dict[str, StepResult] = {}
        self.interrupted = False
        self.registry = registry
        self.bus = bus
        self.cancel = cancel or CancelToken()
        self.trigger = trigger
        self.schemas: SchemaRegistry = schemas if schemas is not None else InMemorySchemaRegistry()
        self.quality: QualityLog = quality if quality is not None else InMemoryQualityLog()
        # Sources read their dead-letter rows instead of their data (sluiceway dlq replay).
        self.replay = replay
        # One source re-reads a window of its cursor (sluiceway backfill).
        self.backfill = backfill
        self.run_id = new_id()

    def run(self, select: Sequence[str] | None = None) -> RunResult:
        self.dag = self._plan(select)
        # One run of a pipeline at a time per state folder: a second one is refused before it
        # starts (so it is not recorded); the OS frees the lock if this process dies.
        with PipelineLock(
            self.pipeline.state_dir, self.pipeline.name, run_id=self.run_id, wait=self.lock_wait
        ):
            return self._run(self.dag)

    def plan(self, select: Sequence[str] | None = None) -> Dag:
        """The DAG this run would execute (``sluiceway plan``)."""
        return self._plan(select)

    def _run(self, dag: Dag) -> RunResult:
        spec = self.pipeline.spec
        started = utcnow()
        self._publish(
            EventKind.RUN_STARTED,
            None,
            trigger=self.trigger,
            config_hash=_file_hash(self.pipeline.file),
            steps=dag.order(),
            warehouse=spec.warehouse.type,
            restart_of=self.restart_of,
            dag=[[e.parent, e.child] for e in dag.edges],
        )
        result = RunResult(self.run_id, spec.pipeline, RunStatus.RUNNING, started, started)
        warehouse: Warehouse[Any] | None = None
        try:
            warehouse = self.registry.warehouses.create(
                spec.warehouse,
                WarehouseContext(self.pipeline.state_dir, self.pipeline.resolve),
            )
            warehouse.open()
            opened = warehouse
            with warehouse.run_lock(self.pipeline.name, run_id=self.run_id):
                executor = StepExecutor(
                    dag,
                    run_step=lambda name: self._attempt(name, opened).status,
                    not_run=self._not_run,
                    cancel=self.cancel,
                    max_workers=spec.execution.max_workers,
                    limits=spec.execution.limits,
                )
                executor.run()
                self.interrupted = self.interrupted or executor.interrupted
        except SluicewayError as exc:
            result.error = exc
        finally:
            if warehouse is not None:
                warehouse.close()
        result.steps = [self._steps[n] for n in dag.order() if n in self._steps]
        # The runner lets go of the steps: a step's error holds frames that hold the runner,
        # and that cycle would keep DuckDB objects alive until the garbage collector ran.
        self._steps = {}
        result.finished_at = utcnow()
        result.status = _run_status(result)
        self._publish(
            EventKind.RUN_FINISHED,
            None,
            status=result.status.value,
            rows_in=result.rows_read,
            rows_out=result.rows_loaded,
            rows_rejected=result.rows_rejected,
            bytes_in=sum(s.bytes_in for s in result.steps),
            duration_s=result.duration_s,
            error_class=_first_error_class(result),
            error_message=_first_error_message(result),
        )
        if self.interrupted:
            raise KeyboardInterrupt
        return result

    def _plan(self, select: Sequence[str] | None) -> Dag:
        """The pipeline's DAG (foreign keys read from SQL sources' catalogs), narrowed to the
        selected steps."""
        spec = self.pipeline.spec
        foreign_keys: dict[str, list[str]] = {}
        notes: list[str] = []
        if spec.execution.discover_foreign_keys:
            foreign_keys, notes = discover_foreign_keys(
                spec, self.registry.sources.create, skip=self.breakers.is_open
            )
        models = discover_models(self.pipeline.file.parent, spec.models)
        self.models = {m.name: m for m in models}
        if not spec.sources and not models:
            raise ConfigError(
                f"pipeline {self.pipeline.name!r} has nothing to run: no sources, and no models "
                f"under {self.pipeline.file.parent / spec.models.path}",
                hint="Add a source under `sources:`, or models to the models folder.",
            )
        dag = build_dag(spec, foreign_keys=foreign_keys, models=models)
        dag.notes.extend(notes)
        return dag.subset(self._selected(select, dag))

    def _selected(self, select: Sequence[str] | None, dag: Dag) -> list[str]:
        if self.backfill is not None:
            if self.backfill.source not in self.pipeline.spec.sources:
                raise ConfigError(
                    f"pipeline {self.pipeline.name!r} has no source named {self.backfill.source!r}",
                    hint=f"Sources: {', '.join(self.pipeline.spec.sources)}",
                )
            select = [self.backfill.source]
        if not select:
            return dag.order()
        return select_steps(self.pipeline.name, dag, select)

    def _not_run(self, name: str, status: StepStatus, why: str) -> None:
        """A step the executor did not start: skipped, or cancelled before it began."""
        step = StepResult(name=name, table=self._target(name), status=status)
        step.notes = (why,)
        self._steps[name] = step
        self._publish_finished(step, started=False, reason=why)

    def _attempt(self, name: str, warehouse: Warehouse[Any]) -> StepResult:
        """Run a step, again after a backoff while it fails with a transient error its retry
        policy covers, unless a circuit breaker it needs is (or becomes) open."""
        endpoints = self._endpoints(name)
        blocked = self._admit(name, endpoints)
        if blocked is not None:
            self._steps[name] = blocked
            return blocked
        policy = self._retry_policy(name, warehouse)
        delays = policy.delays(self.rng) if policy is not None else iter(())
        attempt = 1
        while True:
            step = self._timed_step(name, warehouse, attempt=attempt)
            self._steps[name] = step
            if step.error is None and name in self.models:
                self._model_built(self.models[name], warehouse)
            if isinstance(step.error, KeyboardInterrupt):
                self.interrupted = True
                self.cancel.cancel("interrupted")
            opened = self._breaker_outcome(step, endpoints)
            if step.error is None or opened or self.cancel.cancelled:
                return step
            if not self._retryable(step.error, name, warehouse):
                return step
            if endpoints.trial:  # a half-open trial gets one try
                return step
            delay = next(delays, None)
            if delay is None:
                return step
            self._publish(
                EventKind.STEP_RETRYING,
                name,
                attempt=attempt,
                next_attempt=attempt + 1,
                delay_s=round(delay, 3),
                error_class=classify(step.error).value,
                error_message=error_text(step.error),
            )
            self.sleep(delay)
            if any(self.breakers.is_open(e) for e in endpoints.all()):
                return step  # opened by another step meanwhile: no further try
            attempt += 1

    def _timed_step(self, name: str, warehouse: Warehouse[Any], *, attempt: int) -> StepResult:
        """One attempt, with its own token: the run's cancel and pause reach it, and its
        timeout stops only it (at its next batch boundary)."""
        model = self.models.get(name)
        if model is not None and model.config.materialized == "view":
            return self._build_view(model, warehouse, attempt=attempt)
        token = CancelToken(parent=self.cancel)
        timeout = getattr(self._config(name), "timeout", None)
        timeout = timeout or self.pipeline.spec.execution.step_timeout
        timer: threading.Timer | None = None
        if timeout is not None:
            seconds = timeout.total_seconds()
            timer = threading.Timer(
                seconds,
                token.expire,
                args=(
                    StepTimeoutError(
                        f"step {name!r} ran past its timeout of {format_duration(timeout)}",
                        hint="Raise `timeout` on the source (or `execution.step_timeout`); the "
                        "step rolled back, nothing of it was committed.",
                    ),
                ),
            )
            timer.daemon = True
            timer.start()
        try:
            return self._run_step(name, warehouse, attempt=attempt, cancel=token)
        finally:
            if timer is not None:
                timer.cancel()

    def _settings(self, name: str) -> SourceSettings:
        """A source's settings, or a materialized model's load settings."""
        model = self.models.get(name)
        if model is not None:
            return model_settings(model, self.pipeline.spec)
        return self.pipeline.spec.settings(name)

    def _origin(self, name: str) -> str | None:
        """Where a source's rows come from, for table-level lineage (``csv:data/*.csv``,
        ``postgres:postgres://db:5432/shop/public.orders``); None for a model."""
        config = self.pipeline.spec.sources.get(name)
        if config is None:
            return None
        where = getattr(config, "path", None) or getattr(config, "source_table", None)
        if isinstance(where, list):
            where = ", ".join(map(str, where))
        endpoint = endpoint_of(config)
        if where and endpoint:
            where = f"{endpoint}/{where}"
        return f"{config.type}:{where or endpoint or name}"

    def _target(self, name: str) -> str:
        """The table a step writes."""
        model = self.models.get(name)
        return str(model.table if model is not None else self.pipeline.spec.settings(name).table)

    def _config(self, name: str) -> Any:
        """A source's spec, or a model's config."""
        model = self.models.get(name)
        return model.config if model is not None else self.pipeline.spec.sources[name]

    def _source_type(self, name: str) -> str:
        model = self.models.get(name)
        if model is not None:
            return f"model ({model.config.materialized})"
        return str(self.pipeline.spec.sources[name].type)

    def _model_rows(
        self, model: Model, settings: SourceSettings, ctx: ReadContext, warehouse: Warehouse[Any]
    ) -> tuple[pa.RecordBatchReader, Tracking | None]:
        """A materialized model's rows, computed by the warehouse; past its cursor if it has
        a ``time_column``."""
        tracking = self._tracking(warehouse, settings, ctx) if settings.incremental else None
        bounds = tracking.cursor.read_bounds() if tracking and tracking.cursor else None
        rows = model_rows(model, warehouse, batch_size=settings.batch_size, bounds=bounds)
        self._lineage_sql[model.name] = rows.lineage_sql
        if rows.sql is not None:
            self._capture_plan(model, rows.sql, warehouse)
        reader = rows.reader
        if tracking is not None and tracking.cursor is not None:
            reader = tracking.cursor.filter(reader)
        return reader, tracking

    def _model_built(self, model: Model, warehouse: Warehouse[Any]) -> None:
        """Publish what lineage needs of a model that committed: its code (the version), the
        SQL its column lineage is traced from (or a Python transform's declared lineage), the
        columns of the tables it reads and of its own output."""

        def columns(table: str) -> dict[str, str]:
            arrow = warehouse.table_schema(TableRef.parse(table))
            return {f.name: sql_type(f.type) for f in arrow} if arrow is not None else {}

        try:
            schema = {table: columns(table) for table in model.reads}
            output = columns(str(model.table))
        except SluicewayError as exc:  # lineage is a record, not part of the model's work
            self._publish(EventKind.MODEL_BUILT, model.name, error=exc.message)
            return
        lineage: dict[str, Any] = {}
        if (traced := self._lineage_sql.get(model.name)) is not None:
            lineage["sql"] = traced
        elif model.python is not None and model.python.lineage is not None:
            lineage["column_lineage"] = declared_lineage(model.python)
        self._publish(
            EventKind.MODEL_BUILT,
            model.name,
            table=str(model.table),
            kind=model.kind,
            code=model.code,
            reads=list(model.reads),
            **lineage,
            materialization=model.config.materialized,
            config=model.config.model_dump(mode="json", exclude_defaults=True),
            schema={t: c for t, c in schema.items() if c},
            columns=[{"name": n, "type": t} for n, t in output.items()],
        )

    def _columns_of(self, warehouse: Warehouse[Any], table: TableRef) -> list[dict[str, str]]:
        """A committed table's columns (name, SQL type), for lineage; none if unreadable."""
        try:
            arrow = warehouse.table_schema(table)
        except SluicewayError:
            return []
        return [{"name": f.name, "type": sql_type(f.type)} for f in arrow or ()]

    def _capture_plan(self, model: Model, sql: str, warehouse: Warehouse[Any]) -> None:
        """Publish the warehouse's plan of a model's query (``models.explain``); a query the
        warehouse cannot explain is noted, never a failure of the model."""
        mode = model.config.explain or self.pipeline.spec.models.explain
        if mode == "off":
            return
        analyze = mode == "analyze"
        try:
            plan, error = warehouse.explain(sql, analyze=analyze), None
        except SluicewayError as exc:
            plan, error = None, exc.message
        self._publish(
            EventKind.PLAN_CAPTURED,
            model.name,
            dialect=warehouse.capabilities.dialect,
            analyzed=analyze,
            sql=sql,
            plan=plan,
            error=error,
        )

    def _build_view(self, model: Model, warehouse: Warehouse[Any], *, attempt: int) -> StepResult:
        """A view model: created or replaced in one transaction; no rows move."""
        step = StepResult(
            name=model.name, table=str(model.table), status=StepStatus.RUNNING, attempts=attempt
        )
        self._publish(
            EventKind.STEP_STARTED,
            model.name,
            attempt=attempt,
            kind="model",
            target=step.table,
            source_type="model (view)",
            write="view",
        )
        started = monotonic()
        try:
            self.cancel.check()
            query = model_query(model, warehouse)
            self._lineage_sql[model.name] = query.sql(dialect="duckdb")
            sql = compiled(model, query, warehouse.capabilities.dialect)
            warehouse.create_schema(model.table.schema or warehouse.default_schema)
            warehouse.execute(view_statements(model, warehouse, sql))
            self._capture_plan(model, sql, warehouse)
            step.status = StepStatus.SUCCEEDED
            step.notes = (f"view {model.table} created",)
        except (SluicewayError, KeyboardInterrupt) as exc:
            step.error = exc
            cancelled = isinstance(exc, CancelledError | KeyboardInterrupt)
            step.status = StepStatus.CANCELLED if cancelled else StepStatus.FAILED
        step.duration_s = monotonic() - started
        self._publish_finished(step)
        return step

    def _endpoints(self, name: str) -> StepEndpoints:
        assert self.dag is not None
        return StepEndpoints(
            source=self.dag.steps[name].endpoint,
            warehouse=endpoint_of(self.pipeline.spec.warehouse),
        )

    def _admit(self, name: str, endpoints: StepEndpoints) -> StepResult | None:
        """None if every endpoint of the step admits it, else the step, blocked."""
        for endpoint in endpoints.all():
            admission = self.breakers.admit(endpoint, self.run_id)
            if admission.trial:
                endpoints.trial = True
            if not admission.allowed:
                step = StepResult(
                    name=name,
                    table=self._target(name),
                    status=StepStatus.BLOCKED,
                    error=admission.error(self.breakers.spec.cooldown),
                )
                self._publish_finished(step, started=False, reason="circuit open")
                return step
        return None

    def _breaker_outcome(self, step: StepResult, endpoints: StepEndpoints) -> bool:
        """Tell the breakers how the attempt went; True if it opened one (retries stop)."""
        blamed = None
        if step.error is not None:
            blamed = blamed_endpoint(
                step.error, source=endpoints.source, warehouse=endpoints.warehouse
            )
        stopped = isinstance(step.error, CancelledError | KeyboardInterrupt | StepTimeoutError)
        # A half-open trial that ended in anything but a failure of the endpoint (the rows
        # were bad, say) still reached it: the trial is over, the breaker closes.
        answered = endpoints.trial and blamed is None and not stopped
        if step.error is None or answered:
            for endpoint in endpoints.all():
                if self.breakers.succeeded(endpoint, self.run_id):
                    self._publish(EventKind.CIRCUIT_CLOSED, step.name, endpoint=endpoint)
            return False
        if blamed is None:
            return False
        opened = self.breakers.failed(blamed, step.error, self.run_id)
        if opened is not None:
            self._publish(
                EventKind.CIRCUIT_OPENED,
                step.name,
                endpoint=blamed,
                failures=opened.failures,
                cooldown_s=self.breakers.spec.cooldown.total_seconds(),
                error_message=opened.last_error,
            )
            return True
        return self.breakers.is_open(blamed)

    def _configured_retry(self, name: str) -> RetrySpec | None:
        """The step's own ``retry``, else the pipeline's ``execution.retry``."""
        own: RetrySpec | None = getattr(self._config(name), "retry", None)
        return own or self.pipeline.spec.execution.retry

    def _retry_policy(self, name: str, warehouse: Warehouse[Any]) -> RetryPolicy | None:
        """The configured retry, else the warehouse's own (which covers only a lost warehouse
        connection)."""
        chosen = self._configured_retry(name)
        return chosen.policy() if chosen is not None else warehouse.retry_policy

    def _retryable(self, error: BaseException, name: str, warehouse: Warehouse[Any]) -> bool:
        if self._configured_retry(name) is not None:
            return classify(error) is ErrorClass.TRANSIENT and not isinstance(
                error, CircuitOpenError
            )
        return isinstance(error, WarehouseUnavailableError) and warehouse.retry_policy is not None

    def _run_step(
        self, name: str, warehouse: Warehouse[Any], *, attempt: int = 1, cancel: CancelToken
    ) -> StepResult:
        spec = self.pipeline.spec
        settings = self._settings(name)
        load_id = new_id()
        step = StepResult(
            name=name, table=str(settings.table), status=StepStatus.RUNNING, attempts=attempt
        )
        self._publish(
            EventKind.STEP_STARTED,
            name,
            attempt=attempt,
            kind="model" if name in self.models else "load",
            target=step.table,
            source_type=self._source_type(name),
            write=settings.write,
            load_id=load_id,
        )
        started = monotonic()
        progress = StepProgress(self.bus, self.run_id, spec.pipeline, name)
        ctx = ReadContext(
            pipeline=spec.pipeline,
            run_id=self.run_id,
            load_id=load_id,
            settings=settings,
            resolve_path=self.pipeline.resolve,
            display_path=self._display,
            progress=progress,
            cancel=cancel,
        )
        counting: CountingReader | None = None
        checks: LoadChecks | None = None
        cleaner: Cleaner | None = None
        tracking: Tracking | None = None
        try:
            cancel.check()
            reader, tracking = self._read(name, settings, ctx, warehouse)
            if settings.clean is not None:
                cleaner = Cleaner(settings.clean)
            incoming = cleaner.output_schema(reader.schema) if cleaner else reader.schema
            plan = self._contract(warehouse, settings, incoming)
            _check_dedupe(settings, plan.after)
            checks = self._checks(warehouse, settings, load_id)
            counting = CountingReader(
                reader,
                bus=self.bus,
                progress=progress,
                cancel=cancel,
                run_id=self.run_id,
                pipeline=spec.pipeline,
                step=name,
            )
            request = LoadRequest(
                load_id=load_id,
                run_id=self.run_id,
                pipeline=spec.pipeline,
                source=name,
                table=settings.table,
                write=_replay_write(settings.write) if self.replay else settings.write,
                primary_key=settings.primary_key,
                lineage=settings.lineage,
                on_bad_rows=settings.on_bad_rows,
                schema_changes=plan.changes,
                separate_staging=checks is not None,
                replays=self.replay[name].refs if self.replay else (),
                **self._write_options(settings, tracking),
            )
            contract_rejects: list[Reject] = []

            def reject(item: Reject) -> None:
                contract_rejects.append(item)
                ctx.reject(item)

            transform = BatchTransform(plan.batch, source=name, reject=reject)
            if checks is not None:
                rows_read = counting
                checks.source_rows = lambda: (
                    rows_read.rows + len(ctx.rejects) - len(contract_rejects)
                )
            loaded = self._load(
                warehouse,
                request,
                counting,
                ctx,
                transform=transform,
                checks=checks,
                cleaner=cleaner,
                tracking=tracking,
            )
            step.schema_version = self._register(warehouse, plan, loaded.load_id, name)
            step.schema_notes = plan.notes
            step.committed(
                loaded,
                notes=(*(tracking.notes() if tracking else ()), *ctx.notes, *loaded.notes),
            )
        except NothingNew as nothing:
            self._nothing_new(step, ctx, warehouse, nothing)
        except (SluicewayError, KeyboardInterrupt) as exc:
            step.error = exc
        except Exception as exc:  # a bug: record it, keep the traceback for --debug
            step.error = exc
            step.error.__sluiceway_traceback__ = traceback.format_exc()  # type: ignore[attr-defined]
        finally:
            if cleaner is not None:
                cleaner.close()
        if checks is not None:
            step.quality = self._record_quality(checks, committed=step.error is None, step=name)
        self._finish_step(step, started, counting, progress)
        return step

    def _finish_step(
        self,
        step: StepResult,
        started: float,
        counting: CountingReader | None,
        progress: StepProgress,
    ) -> None:
        if step.error is not None:
            cancelled = isinstance(step.error, CancelledError | KeyboardInterrupt)
            step.status = StepStatus.CANCELLED if cancelled else StepStatus.FAILED
        step.duration_s = monotonic() - started
        if counting is not None:
            step.rows_read = counting.rows
        step.bytes_in = progress.bytes_total or 0
        self._publish_finished(step)

    def _publish_finished(
        self, step: StepResult, *, started: bool = True, reason: str | None = None
    ) -> None:
        """``step_finished``; a step that never started (skipped, blocked, cancelled before
        it began) says so and why."""
        self._publish(
            EventKind.STEP_FINISHED,
            step.name,
            status=step.status.value,
            attempt=step.attempts,
            target=step.table,
            started=started,
            reason=reason,
            rows_in=step.rows_read,
            rows_out=step.rows_loaded,
            rows_inserted=step.rows_inserted,
            rows_updated=step.rows_updated,
            rows_rejected=step.rows_rejected,
            bytes_in=step.bytes_in,
            load_id=step.load_id,
            duration_s=step.duration_s,
            error_class=classify(step.error).value if step.error else None,
            error_message=error_text(step.error) if step.error else None,
        )

    def _tracking(
        self, warehouse: Warehouse[Any], settings: SourceSettings, ctx: ReadContext
    ) -> Tracking:
        """The source's cursor and file tracker, from the state its last committed load left."""
        spec = settings.incremental
        assert spec is not None
        if settings.write == "replace":
            raise ConfigError(
                f"source {settings.name!r} is incremental but writes with `replace`, which "
                "would swap the table for the new rows alone",
                hint="Use `write: append` or `write: merge` with an incremental source.",
            )
        if spec.lookback is not None and (settings.write != "merge" or not settings.primary_key):
            raise ConfigError(
                f"source {settings.name!r}: `lookback` re-reads rows the table already holds; "
                "without a merge on the primary key they would load twice",
                hint="Set `write: merge` and `primary_key`, or drop `lookback`.",
            )
        stored = warehouse.read_state(self.pipeline.name, settings.name)
        tracking = Tracking()
        window = self._window(settings)
        if spec.cursor is not None:
            kept, periods = stored.get(CURSOR_STATE), stored.get(PERIODS_STATE)
            tracking.cursor = Cursor(
                spec,
                kept.value if kept is not None else None,
                window=window,
                periods=periods.value if periods is not None else None,
            )
        if spec.files and window is None:  # a backfill reads every file, and tracks none
            if not hasattr(self.pipeline.spec.sources[settings.name], "path"):
                raise ConfigError(
                    f"source {settings.name!r}: `files: true` tracks the files a file source "
                    "reads, and this source reads no files",
                    hint="Use a `cursor` column instead.",
                )
            kept = stored.get(FILES_STATE)
            tracking.files = FileTracker.from_state(
                kept.value if kept else None, spec.changed, base=self.pipeline.base_dir
            )
            ctx.tracker = tracking.files
        return tracking

    def _window(self, settings: SourceSettings) -> tuple[Any, Any] | None:
        """A backfill's window, for the source it names."""
        backfill = self.backfill
        if backfill is None or backfill.source != settings.name:
            return None
        if settings.incremental is None or settings.incremental.cursor is None:
            raise ConfigError(
                f"source {settings.name!r} has no incremental cursor to backfill by",
                hint="A backfill re-reads a window of a cursor column: set "
                "`incremental: {cursor: COLUMN}` on the source.",
            )
        return backfill.start, backfill.end

    def _read(
        self, name: str, settings: SourceSettings, ctx: ReadContext, warehouse: Warehouse[Any]
    ) -> tuple[pa.RecordBatchReader, Tracking | None]:
        """The source's rows (past its cursor, if incremental), or the dead-letter rows a
        replay runs again."""
        if self.replay is not None:
            table = warehouse.table_schema(settings.table)
            return replay_reader(self.replay[name], settings, table, ctx.reject), None
        if name in self.models:
            return self._model_rows(self.models[name], settings, ctx, warehouse)
        source = self.registry.sources.create(self.pipeline.spec.sources[name])
        if source.capabilities.keeps_state:
            stored = warehouse.read_state(self.pipeline.name, settings.name)
            ctx.state = {key: value.value for key, value in stored.items()}
        if settings.incremental is None:
            self._window(settings)  # a backfill of a source without a cursor: an error
            return source.read(ctx), None
        tracking = self._tracking(warehouse, settings, ctx)
        if tracking.cursor is not None:  # a SQL source puts them in its WHERE; the filter stays
            ctx.cursor = tracking.cursor.read_bounds()
        reader = source.read(ctx)
        if tracking.cursor is not None:
            reader = tracking.cursor.filter(reader)
        return reader, tracking

    def _write_options(
        self, settings: SourceSettings, tracking: Tracking | None = None
    ) -> dict[str, Any]:
        """How a keyed or partitioned write treats the rows (LoadRequest's last fields).

        A change-data source's rows say what they are in its op column: unless the source
        sets its own ``delete``, a merge or scd2 deletes on its ``delete`` rows and empties
        the table on a ``truncate``; scd2 orders versions by the change's commit time.
        """
        options: dict[str, Any] = {
            "delete": settings.delete,
            "snapshot": settings.snapshot,
            "scd2": settings.scd2,
            "partition": settings.partition,
            "partition_by": settings.partition_by,
        }
        if settings.write == "scd2" and settings.scd2 is None:
            options["scd2"] = Scd2Spec()
        config = self.pipeline.spec.sources.get(settings.name)
        op = self.registry.sources.capabilities(config) if config else SourceCapabilities()
        if op.change_op_column is not None and settings.keyed and not self.replay:
            delete = settings.delete or DeleteSpec()
            if delete.column is None:
                delete = delete.model_copy(
                    update={"column": op.change_op_column, "values": ["delete"]}
                )
                options["truncate"] = "truncate"
            options["delete"] = delete
            if settings.write == "scd2" and (settings.scd2 is None or not settings.scd2.changed_at):
                base = settings.scd2 or Scd2Spec()
                options["scd2"] = base.model_copy(update={"changed_at": COMMIT_TS_COLUMN})
        if self.replay and settings.write == "insert_overwrite":
            options["partition"] = None
        cursor = tracking.cursor if tracking is not None else None
        if cursor is not None and cursor.window is not None and settings.write == "append":
            # An appended window is replaced whole: re-running a backfill adds nothing twice.
            assert cursor.lower is not None
            assert cursor.upper is not None
            options["window"] = (cursor.column, cursor.lower.as_py(), cursor.upper.as_py())
        delete = options["delete"]
        if (
            settings.keyed
            and delete is not None
            and delete.column is None
            and not settings.snapshot
        ):
            raise ConfigError(
                f"source {settings.name!r}: `delete` needs a `column` that marks deleted rows "
                "(this source's rows do not say which are deletions)",
                hint="Set `delete.column`, or `cdc: snapshot` to delete keys missing from a "
                "full read.",
            )
        if settings.write == "scd2" and delete is not None and delete.mode == "soft":
            raise ConfigError(
                f"source {settings.name!r}: `write: scd2` keeps history, so a deletion closes "
                "the key's current version; `delete.mode: soft` is for `write: merge`",
                hint="Drop `mode: soft` (the closed version is the soft record).",
            )
        return options

    @staticmethod
    def _managed(settings: SourceSettings) -> tuple[str, ...]:
        """Table columns the load writes itself: scd2's history columns, a soft delete's time."""
        managed: tuple[str, ...] = ()
        if settings.write == "scd2":
            managed += (settings.scd2 or Scd2Spec()).columns()
        if settings.delete is not None and settings.delete.mode == "soft":
            managed += (settings.delete.deleted_at,)
        return managed

    def _contract(
        self, warehouse: Warehouse[Any], settings: SourceSettings, incoming: pa.Schema
    ) -> ContractPlan:
        """Compare the stream with the table (and its registered history) under the contract.

        A table whose schema the registry does not know (created before the registry, changed
        by hand, or a crash between commit and registration) is recorded as it is first.
        """
        if settings.lineage:
            incoming = incoming.append(pa.field(LOAD_ID_COLUMN, pa.string()))
        warehouse_id = warehouse.describe()
        arrow = warehouse.table_schema(settings.table)
        table = TableSchema.from_arrow(arrow) if arrow is not None else None
        known = registered(self.schemas, warehouse_id, settings.table)
        if table is not None:
            current = resolve_placeholders(table, known.latest)
            if known.latest is None or known.latest.fingerprint != current.fingerprint:
                self.schemas.record(
                    warehouse_id,
                    settings.table,
                    schema=current,
                    diff=diff(known.latest or TableSchema(), current),
                    aliases=known.aliases,
                    reason="observed",
                    pipeline=self.pipeline.name,
                    run_id=self.run_id,
                )
                known = registered(self.schemas, warehouse_id, settings.table)
        return plan_contract(
            incoming,
            table,
            known,
            settings.contract,
            ref=settings.table,
            primary_key=settings.primary_key,
            managed=self._managed(settings),
        )

    def _register(
        self, warehouse: Warehouse[Any], plan: ContractPlan, load_id: str, step: str
    ) -> int | None:
        """After commit: the table's new schema becomes the next version."""
        if not plan.changed:
            return None
        version = self.schemas.record(
            warehouse.describe(),
            plan.table,
            schema=plan.after,
            diff=plan.diff,
            aliases=plan.aliases,
            reason="load",
            pipeline=self.pipeline.name,
            run_id=self.run_id,
            load_id=load_id,
        )
        self._publish(
            EventKind.SCHEMA_CHANGED,
            step,
            table=str(plan.table),
            version=version.version,
            changes=plan.diff.lines(),
            notes=list(plan.notes),
        )
        return version.version

    def _load(
        self,
        warehouse: Warehouse[Any],
        request: LoadRequest,
        counting: CountingReader,
        ctx: ReadContext,
        *,
        transform: BatchTransform,
        checks: LoadChecks | None = None,
        cleaner: Cleaner | None = None,
        tracking: Tracking | None = None,
    ) -> LoadResult:
        with warehouse.begin(request) as load:
            rows = counting.reader()
            if cleaner is not None:
                rows = cleaner.apply(rows)
            try:
                load.stage(transform.apply(rows))
            except SluicewayError:
                # The source failed inside the warehouse's scan; its own error says where.
                if counting.error is not None:
                    raise counting.error from None
                raise
            ctx.cancel.check()
            if checks is not None:
                if cleaner is not None:
                    checks.cleaning = cleaner.report.to_dicts()
                checks.on_staged(load, first_seq=len(ctx.rejects))
                ctx.cancel.check()
            if tracking is not None:
                tracking.remember(load)
            for key, value in ctx.remembered.items():
                load.remember(key, value)
            result = load.commit(ctx.rejects, checks.verify if checks is not None else None)
        self._after_commit(ctx, request.source)
        self._publish(
            EventKind.LOAD_COMMITTED,
            request.source,
            origin=self._origin(request.source),
            load_id=result.load_id,
            table=str(result.table),
            columns=self._columns_of(warehouse, result.table),
            rows_inserted=result.rows_inserted,
            rows_updated=result.rows_updated,
            rows_rejected=result.rows_rejected,
        )
        if result.rows_rejected:
            self._publish(
                EventKind.ROWS_REJECTED,
                request.source,
                rows=result.rows_rejected,
                table=str(result.table),
                load_id=result.load_id,
            )
        return result

    def _nothing_new(
        self, step: StepResult, ctx: ReadContext, warehouse: Warehouse[Any], why: NothingNew
    ) -> None:
        """No load; but a source may still move its own position (a slot past other tables'
        transactions): that state is saved, then the source's after-commit work runs."""
        try:
            for key, value in ctx.remembered.items():
                warehouse.set_state(self.pipeline.name, step.name, key, value, by=self.run_id)
            if ctx.remembered:
                self._after_commit(ctx, step.name)
        except SluicewayError as exc:
            step.error = exc
            return
        step.finished_early(f"nothing to load: {why}")
        step.notes = (*step.notes, *ctx.notes)

    @staticmethod
    def _after_commit(ctx: ReadContext, step: str) -> None:
        """What the source does once its rows are in (confirm a slot). The rows and the
        state committed; a failure here only delays the source's own bookkeeping."""
        for callback in ctx.on_commit:
            try:
                callback()
            except SluicewayError as exc:
                ctx.notes.append(f"after the commit, {step}: {exc.message}")

    def _checks(
        self, warehouse: Warehouse[Any], settings: SourceSettings, load_id: str
    ) -> LoadChecks | None:
        """Quality work for this load, if it has rules or the pipeline profiles loads."""
        quality = self.pipeline.spec.quality
        if settings.profile is not None and settings.profile != quality.profile:
            quality = quality.model_copy(update={"profile": settings.profile})
        cleans = settings.clean is not None or settings.dedupe is not None
        if not settings.checks and not quality.profile and not cleans:
            return None
        return LoadChecks(
            settings=settings,
            quality=quality,
            log=self.quality,
            warehouse=warehouse.describe(),
            run_id=self.run_id,
            pipeline=self.pipeline.name,
            load_id=load_id,
        )

    def _record_quality(
        self, checks: LoadChecks, *, committed: bool, step: str
    ) -> dict[str, Any] | None:
        entry = checks.record(committed=committed)
        if entry is None:
            return None
        failed = [r for r in checks.results if not r.passed]
        summary = {
            "score": entry.score,
            "rules": len(checks.results),
            "failed": [r.rule_id for r in failed],
            "quarantined": sum(r.quarantined for r in checks.results),
            "profiled": entry.profile is not None,
        }
        self._publish(
            EventKind.CHECKS_FINISHED,
            step,
            table=entry.table,
            load_id=entry.load_id,
            committed=committed,
            **summary,
            results=[
                {
                    "rule_id": r.rule_id,
                    "passed": r.passed,
                    "failing": r.failing,
                    "on_fail": r.on_fail,
                }
                for r in checks.results
            ],
        )
        return summary

    def _display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.pipeline.base_dir))
        except ValueError:
            return str(path)

    def _publish(self, what: EventKind, step: str | None, **data: Any) -> None:
        self.bus.publish(Event(what, self.run_id, self.pipeline.name, step, data))


@dataclass
class StepEndpoints:
    """The endpoints a step talks to (each has a circuit breaker); ``trial``: the step is a
    half-open breaker's one try."""

    source: str | None
    warehouse: str | None
    trial: bool = False

    def all(self) -> list[str]:
        return [e for e in (self.source, self.warehouse) if e is not None]


def _replay_write(write: str) -> Any:
    """Replayed rows join the table: a `replace` or `insert_overwrite` source appends them
    instead (they would swap the table, or their partitions, for themselves alone)."""
    return "append" if write in ("replace", "insert_overwrite") else write


def _check_dedupe(settings: SourceSettings, schema: TableSchema) -> None:
    """The dedupe key and ordering column exist in what the table will hold."""
    if settings.dedupe is None:
        return
    names = {c.name.lower() for c in schema.columns}
    wanted = [
        *settings.dedupe.key,
        *([settings.dedupe.order_by] if settings.dedupe.order_by else []),
    ]
    missing = [c for c in wanted if c.lower() not in names]
    if missing:
        raise ConfigError(
            f"source {settings.name!r}: dedupe names {', '.join(map(repr, missing))}, which "
            f"the rows of {settings.table} do not have",
            hint=f"Columns: {', '.join(c.name for c in schema.columns)}",
        )


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _run_status(result: RunResult) -> RunStatus:
    if any(s.status is StepStatus.CANCELLED for s in result.steps):
        return RunStatus.CANCELLED
    if result.error is not None or result.failed_steps:
        return RunStatus.FAILED
    return RunStatus.SUCCEEDED


def _first_error_class(result: RunResult) -> str | None:
    if result.error is not None:
        return classify(result.error).value
    failed = [s for s in result.steps if s.error is not None]
    return classify(failed[0].error).value if failed and failed[0].error else None


def _first_error_message(result: RunResult) -> str | None:
    if result.error is not None:
        return error_text(result.error)
    failed = [s for s in result.steps if s.error is not None]
    if not failed or failed[0].error is None:
        return None
    text = error_text(failed[0].error)
    return text if len(failed) == 1 else f"{text} (and {len(failed) - 1} more failed step(s))"
