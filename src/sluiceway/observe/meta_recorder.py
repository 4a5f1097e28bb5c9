"""Write run and step records to the metadata store, from events.

Progress (``batch_staged``) is written at most once a second per step, so live runs are visible
to ``sluiceway runs`` and the console without a database write per batch. Error messages are
stored with every registered secret redacted.
"""

from __future__ import annotations

from sluiceway.core.clock import monotonic
from sluiceway.core.errors import ErrorClass
from sluiceway.core.events import Event, EventKind
from sluiceway.core.redaction import redact, redact_deep
from sluiceway.core.status import RunStatus, StepStatus
from sluiceway.meta import plans
from sluiceway.meta.store import MetaStore

PROGRESS_INTERVAL_S = 1.0


class MetaRecorder:
    def __init__(self, store: MetaStore) -> None:
        self._store = store
        self._last_progress: dict[tuple[str, str], float] = {}
        self._attempts: dict[tuple[str, str], int] = {}  # the attempt running, per step

    def __call__(self, event: Event) -> None:
        data = event.data
        if event.kind is EventKind.RUN_STARTED:
            self._store.start_run(
                event.run_id,
                event.pipeline,
                trigger=str(data.get("trigger", "cli")),
                config_hash=data.get("config_hash"),
                started_at=event.at,
                details=redact_deep(
                    {
                        "steps": list(data.get("steps", [])),
                        "warehouse": data.get("warehouse"),
                        "dag": list(data.get("dag", [])),
                        **({"restart_of": data["restart_of"]} if data.get("restart_of") else {}),
                    }
                ),
            )
        elif event.kind is EventKind.RUN_FINISHED:
            self._store.finish_run(
                event.run_id,
                RunStatus(data["status"]),
                rows_in=int(data.get("rows_in", 0)),
                rows_out=int(data.get("rows_out", 0)),
                rows_rejected=int(data.get("rows_rejected", 0)),
                bytes_in=int(data.get("bytes_in", 0)),
                error_class=_error_class(data.get("error_class")),
                error_message=_redacted(data.get("error_message")),
                finished_at=event.at,
            )
        elif event.kind is EventKind.STEP_STARTED and event.step is not None:
            # A transient failure runs a step again: each try is its own attempt row.
            attempt = int(data.get("attempt", 1))
            self._attempts[(event.run_id, event.step)] = attempt
            self._store.start_step(
                event.run_id,
                event.step,
                kind=str(data.get("kind", "load")),
                target=data.get("target"),
                attempt=attempt,
            )
        elif event.kind is EventKind.BATCH_STAGED and event.step is not None:
            key = (event.run_id, event.step)
            now = monotonic()
            if now - self._last_progress.get(key, 0.0) >= PROGRESS_INTERVAL_S:
                self._last_progress[key] = now
                self._store.update_step(
                    event.run_id,
                    event.step,
                    attempt=self._attempts.get(key, 1),
                    rows_in=int(data.get("rows", 0)),
                    bytes_in=int(data.get("input_bytes") or 0),
                )
        elif event.kind is EventKind.PLAN_CAPTURED and event.step is not None:
            plans.record_plan(
                self._store,
                run_id=event.run_id,
                step=event.step,
                attempt=self._attempts.get((event.run_id, event.step), 1),
                dialect=str(data["dialect"]),
                analyzed=bool(data["analyzed"]),
                sql=redact(str(data["sql"])),
                plan=data.get("plan"),
                error=_redacted(data.get("error")),
            )
        elif event.kind is EventKind.STEP_FINISHED and event.step is not None:
            self._last_progress.pop((event.run_id, event.step), None)
            if data.get("started") is False:  # skipped, blocked, cancelled before it began
                self._attempts[(event.run_id, event.step)] = 1
                self._store.start_step(
                    event.run_id, event.step, kind="load", target=data.get("target"), attempt=1
                )
            self._store.finish_step(
                event.run_id,
                event.step,
                StepStatus(data["status"]),
                attempt=self._attempts.pop((event.run_id, event.step), 1),
                rows_in=int(data.get("rows_in", 0)),
                rows_out=int(data.get("rows_out", 0)),
                rows_rejected=int(data.get("rows_rejected", 0)),
                bytes_in=int(data.get("bytes_in", 0)),
                load_id=data.get("load_id"),
                error_class=_error_class(data.get("error_class")),
                error_message=_redacted(data.get("error_message")),
                details={
                    "rows_inserted": data.get("rows_inserted", 0),
                    "rows_updated": data.get("rows_updated", 0),
                    "duration_s": data.get("duration_s"),
                    **({"reason": data["reason"]} if data.get("reason") else {}),
                },
            )


def _redacted(message: str | None) -> str | None:
    """Error messages are stored without secrets: the store outlives the process."""
    return redact(message) if message else message


def _error_class(value: object) -> ErrorClass | None:
    return ErrorClass(str(value)) if value else None
