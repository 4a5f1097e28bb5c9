"""Structured logs of every event (structlog): JSON lines for machines, aligned text for people.

Each line carries the event name, run_id, pipeline, step and the event's data (rows, durations,
errors). ``--log-format json`` writes them to stderr so stdout stays free for command output.
"""

from __future__ import annotations

import sys
from typing import Any, Literal, TextIO

import structlog

from sluiceway.core.events import Event, EventKind

LogFormat = Literal["json", "console"]

_WARNINGS = {EventKind.ROWS_REJECTED}


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
