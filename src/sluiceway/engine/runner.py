"""Run a pipeline: each source is one step, Source → Contract → Stage → Commit.

Steps run one after another for now; a failed step rolls back its own load and the others still
run, so one bad file does not hold back unrelated tables. Everything the runner does is
published as events; the progress display, the JSON log and the metadata store listen.
"""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from sluiceway.core.clock import monotonic, utcnow
from sluiceway.core.errors import (
    CancelledError,
    ConfigError,
    SluicewayError,
    classify,
)
from sluiceway.core.events import Event, EventBus, EventKind
from sluiceway.core.ids import new_id
from sluiceway.core.names import LOAD_ID_COLUMN
from sluiceway.core.status import RunStatus, StepStatus
from sluiceway.engine.progress import CountingReader, StepProgress
from sluiceway.engine.registry import Registry
from sluiceway.schema.contract import ContractPlan, plan_contract, resolve_placeholders
from sluiceway.schema.diff import diff
from sluiceway.schema.model import TableSchema
from sluiceway.schema.registry import InMemorySchemaRegistry, SchemaRegistry, registered
from sluiceway.schema.transform import BatchTransform
from sluiceway.sources.base import CancelToken, ReadContext
from sluiceway.spec.loader import LoadedPipeline
from sluiceway.spec.models import SourceSettings
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
    bytes_in: int = 0
    duration_s: float = 0.0
    load_id: str | None = None
    error: BaseException | None = None
    schema_version: int | None = None  # the table's new schema version, if this load made one
    schema_notes: tuple[str, ...] = ()  # what the contract did (columns added, variants, ...)

    @property
    def rows_loaded(self) -> int:
        return self.rows_inserted + self.rows_updated

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
            "bytes_in": self.bytes_in,
            "duration_s": round(self.duration_s, 3),
            "rows_per_s": round(self.rows_per_s, 1),
            "load_id": self.load_id,
            "schema_version": self.schema_version,
            "schema_notes": list(self.schema_notes),
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
    ) -> None:
        self.pipeline = pipeline
        self.registry = registry
        self.bus = bus
        self.cancel = cancel or CancelToken()
        self.trigger = trigger
        self.schemas: SchemaRegistry = schemas if schemas is not None else InMemorySchemaRegistry()
        self.run_id = new_id()

    def run(self, select: Sequence[str] | None = None) -> RunResult:
        spec = self.pipeline.spec
        names = self._selected(select)
        started = utcnow()
        self._publish(
            EventKind.RUN_STARTED,
            None,
            trigger=self.trigger,
            config_hash=_file_hash(self.pipeline.file),
            steps=names,
            warehouse=spec.warehouse.type,
        )
        result = RunResult(self.run_id, spec.pipeline, RunStatus.RUNNING, started, started)
        warehouse: Warehouse[Any] | None = None
        try:
            warehouse = self.registry.warehouses.create(
                spec.warehouse,
                WarehouseContext(self.pipeline.state_dir, self.pipeline.resolve),
            )
            warehouse.open()
            for name in names:
                step = self._run_step(name, warehouse)
                result.steps.append(step)
                if isinstance(step.error, CancelledError | KeyboardInterrupt):
                    break
        except SluicewayError as exc:
            result.error = exc
        finally:
            if warehouse is not None:
                warehouse.close()
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
        interrupted = next(
            (s.error for s in result.steps if isinstance(s.error, KeyboardInterrupt)), None
        )
        if interrupted is not None:
            raise interrupted
        return result

    def _selected(self, select: Sequence[str] | None) -> list[str]:
        sources = list(self.pipeline.spec.sources)
        if not select:
            return sources
        unknown = [name for name in select if name not in self.pipeline.spec.sources]
        if unknown:
            raise ConfigError(
                f"pipeline {self.pipeline.name!r} has no source named "
                f"{', '.join(map(repr, unknown))}",
                hint=f"Sources: {', '.join(sources)}",
            )
        return [name for name in sources if name in select]

    def _run_step(self, name: str, warehouse: Warehouse[Any]) -> StepResult:
        spec = self.pipeline.spec
        settings = spec.settings(name)
        load_id = new_id()
        step = StepResult(name=name, table=str(settings.table), status=StepStatus.RUNNING)
        self._publish(
            EventKind.STEP_STARTED,
            name,
            kind="load",
            target=step.table,
            source_type=spec.sources[name].type,
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
            cancel=self.cancel,
        )
        counting: CountingReader | None = None
        try:
            self.cancel.check()
            source = self.registry.sources.create(spec.sources[name])
            reader = source.read(ctx)
            plan = self._contract(warehouse, settings, reader.schema)
            counting = CountingReader(
                reader,
                bus=self.bus,
                progress=progress,
                cancel=self.cancel,
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
                write=settings.write,
                primary_key=settings.primary_key,
                lineage=settings.lineage,
                on_bad_rows=settings.on_bad_rows,
                schema_changes=plan.changes,
            )
            transform = BatchTransform(plan.batch, source=name, reject=ctx.reject)
            loaded = self._load(warehouse, request, counting, ctx, transform)
            step.schema_version = self._register(warehouse, plan, loaded.load_id, name)
            step.schema_notes = plan.notes
            step.status = StepStatus.SUCCEEDED
            step.load_id = loaded.load_id
            step.rows_inserted = loaded.rows_inserted
            step.rows_updated = loaded.rows_updated
            step.rows_rejected = loaded.rows_rejected
        except (SluicewayError, KeyboardInterrupt) as exc:
            step.error = exc
        except Exception as exc:  # a bug: record it, keep the traceback for --debug
            step.error = exc
            step.error.__sluiceway_traceback__ = traceback.format_exc()  # type: ignore[attr-defined]
        if step.error is not None:
            cancelled = isinstance(step.error, CancelledError | KeyboardInterrupt)
            step.status = StepStatus.CANCELLED if cancelled else StepStatus.FAILED
        step.duration_s = monotonic() - started
        if counting is not None:
            step.rows_read = counting.rows
        step.bytes_in = progress.bytes_total or 0
        self._publish(
            EventKind.STEP_FINISHED,
            name,
            status=step.status.value,
            target=step.table,
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
        return step

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
        transform: BatchTransform,
    ) -> LoadResult:
        with warehouse.begin(request) as load:
            try:
                load.stage(transform.apply(counting.reader()))
            except SluicewayError:
                # The source failed inside the warehouse's scan; its own error says where.
                if counting.error is not None:
                    raise counting.error from None
                raise
            self.cancel.check()
            result = load.commit(ctx.rejects)
        self._publish(
            EventKind.LOAD_COMMITTED,
            request.source,
            load_id=result.load_id,
            table=str(result.table),
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

    def _display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.pipeline.base_dir))
        except ValueError:
            return str(path)

    def _publish(self, what: EventKind, step: str | None, **data: Any) -> None:
        self.bus.publish(Event(what, self.run_id, self.pipeline.name, step, data))


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
