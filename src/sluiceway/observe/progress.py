"""A live Rich progress bar per step: input bytes consumed, rows, rows per second."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from sluiceway.core.events import Event, EventKind


class ProgressDisplay:
    """Subscribe it to the bus and use it as a context manager around the run."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description:<18}"),
            BarColumn(bar_width=28),
            TaskProgressColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[rows]:>12,} rows"),
            TextColumn("{task.fields[rate]:>12}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}"),
            console=console,
            transient=False,
            refresh_per_second=8,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def __call__(self, event: Event) -> None:
        step = event.step
        if step is None:
            return
        data = event.data
        if event.kind is EventKind.STEP_STARTED:
            self._tasks[step] = self._progress.add_task(
                step, total=None, rows=0, rate="", note=f"→ {data.get('target', '')}"
            )
            return
        task = self._tasks.get(step)
        if task is None:
            return
        if event.kind is EventKind.BATCH_STAGED:
            update: dict[str, Any] = {
                "rows": int(data.get("rows", 0)),
                "rate": _rate(data.get("rows", 0), data.get("elapsed_s", 0.0)),
            }
            total = data.get("input_bytes_total")
            if total:
                update["total"] = total
                update["completed"] = min(int(data.get("input_bytes") or 0), int(total))
            self._progress.update(task, **update)
        elif event.kind is EventKind.FILE_STARTED:
            self._progress.update(task, note=f"{data.get('file', '')}")
        elif event.kind is EventKind.STEP_FINISHED:
            ok = data.get("status") == "succeeded"
            total = self._progress.tasks[task].total
            self._progress.update(
                task,
                completed=total if ok and total else self._progress.tasks[task].completed,
                rows=int(data.get("rows_in", 0)),
                rate=_rate(data.get("rows_in", 0), data.get("duration_s", 0.0)),
                note="[green]done" if ok else f"[red]{data.get('status')}",
            )


def _rate(rows: object, seconds: object) -> str:
    try:
        value = float(rows) / float(seconds)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        return ""
    return f"{value:,.0f} rows/s"
