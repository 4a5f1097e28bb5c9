"""Cron and interval triggers, concurrency limits and the catch-up policy (``sluiceway serve``)."""

from sluiceway.scheduler.clock import Clock, ManualClock, SystemClock
from sluiceway.scheduler.scheduler import Action, ActionKind, ScheduleEntry, Scheduler
from sluiceway.scheduler.triggers import (
    CronTrigger,
    DueTimes,
    IntervalTrigger,
    Trigger,
    trigger_for,
)

__all__ = [
    "Action",
    "ActionKind",
    "Clock",
    "CronTrigger",
    "DueTimes",
    "IntervalTrigger",
    "ManualClock",
    "ScheduleEntry",
    "Scheduler",
    "SystemClock",
    "Trigger",
    "trigger_for",
]
