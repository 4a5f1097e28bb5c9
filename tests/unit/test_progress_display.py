"""The live progress display, rendered to a recording console as a terminal would show it."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from sluiceway.core.events import Event, EventKind
from sluiceway.observe.progress import ProgressDisplay

pytestmark = pytest.mark.unit


def event(kind: EventKind, step: str, **data: object) -> Event:
    return Event(kind, "run-1", "shop", step, data)


def test_a_bar_per_step_with_rows_bytes_and_rate() -> None:
    console = Console(file=io.StringIO(), force_terminal=False, width=160, record=True)
    with ProgressDisplay(console) as display:
        display(event(EventKind.STEP_STARTED, "orders", target="bronze.orders"))
        display(event(EventKind.STEP_STARTED, "customers", target="bronze.customers"))
        display(event(EventKind.FILE_STARTED, "orders", file="data/orders_2.csv"))
        display(
            event(
                EventKind.BATCH_STAGED,
                "orders",
                rows=131_072,
                elapsed_s=2.0,
                input_bytes=5_000_000,
                input_bytes_total=10_000_000,
            )
        )
        display(
            event(EventKind.STEP_FINISHED, "customers", status="failed", rows_in=10, duration_s=1.0)
        )
        display(
            event(
                EventKind.STEP_FINISHED,
                "orders",
                status="succeeded",
                rows_in=262_144,
                duration_s=4.0,
            )
        )
    # Not a terminal: the display renders its final frame once, when it stops.
    lines = console.export_text().splitlines()
    orders = [line for line in lines if line.startswith("orders")][-1]
    customers = [line for line in lines if line.startswith("customers")][-1]
    assert "262,144 rows" in orders
    assert "65,536 rows/s" in orders
    assert "100%" in orders
    assert "10.0/10.0 MB" in orders
    assert "done" in orders
    assert "failed" in customers
    assert "done" not in customers


def test_events_of_unknown_steps_and_run_events_are_ignored() -> None:
    console = Console(file=io.StringIO(), force_terminal=False, width=120, record=True)
    with ProgressDisplay(console) as display:
        display(Event(EventKind.RUN_STARTED, "run-1", "shop"))
        display(event(EventKind.BATCH_STAGED, "never-started", rows=5))
    assert "never-started" not in console.export_text()
