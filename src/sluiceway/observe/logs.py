"""Structured logs of every event (structlog): JSON lines for machines, aligned text for people.

Each line carries the event name, run_id, pipeline, step and the event's data (rows, durations,
errors). ``--log-format json`` writes them to stderr so stdout stays free for command output.
Every secret the loader registered is redacted from every field (:mod:`sluiceway.core.redaction`).
"""

from __future__ import annotations

import sys
from typing import Any, Literal, TextIO

import structlog

from sluiceway.core.events import Event, EventKind
from sluiceway.core.redaction import redact_deep

LogFormat = Literal["json", "console"]

_WARNINGS = {EventKind.ROWS_REJECTED}


def _redact_secrets(_logger: Any, _method: str, event_dict: Any) -> Any:
    """No secret reaches a log line: every registered one shows as ``***``."""
    return redact_deep(event_dict)


class EventLogger:
    def __init__(self, log_format: LogFormat, stream: TextIO | None = None) -> None:
        renderer: Any = (
            structlog.processors.JSONRenderer(sort_keys=False)
            if log_format == "json"
            else structlog.dev.ConsoleRenderer(colors=False)
        )
        self._logger = structlog.wrap_logger(
            structlog.PrintLogger(file=stream or sys.stderr),
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
                _redact_secrets,
                renderer,
            ],
        )

    def __call__(self, event: Event) -> None:
        fields = event.as_dict()
        name = fields.pop("event")
        fields.pop("at", None)
        failed = fields.get("status") in ("failed", "cancelled")
        if failed:
            self._logger.error(name, **fields)
        elif event.kind in _WARNINGS:
            self._logger.warning(name, **fields)
        else:
            self._logger.info(name, **fields)
