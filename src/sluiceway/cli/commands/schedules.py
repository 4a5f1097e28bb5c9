"""``sluiceway schedules``: each scheduled pipeline, when it fires next, and its last runs.

Also what ``sluiceway serve`` shares with it: finding the project's scheduled pipelines, and
the table of schedules both print.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text

from sluiceway.cli import render
from sluiceway.cli.context import CliState
from sluiceway.core.clock import utcnow
from sluiceway.core.errors import ConfigError, SluicewayError
from sluiceway.core.redaction import redact_deep
from sluiceway.meta.records import RunRecord
from sluiceway.meta.schedules import ScheduleState, list_schedule_states
from sluiceway.meta.store import MetaStore
from sluiceway.scheduler.scheduler import ScheduleEntry, state_matches
from sluiceway.scheduler.triggers import trigger_for
from sluiceway.spec.loader import STATE_DIR_NAME, LoadedPipeline
from sluiceway.spec.project import PROJECT_FILE, pipeline_files

SCHEDULE_TRIGGER = "schedule"
"""The ``trigger`` of the runs the scheduler starts."""

_TIME = "%Y-%m-%d %H:%M:%S"


@dataclass
class ProjectSchedules:
    """The project's pipeline files, sorted by what the scheduler can do with them."""

    state_dir: Path  # the project's: where schedule state and the serve lock live
    scheduled: list[ScheduleEntry[LoadedPipeline]] = field(default_factory=list)
    unscheduled: list[LoadedPipeline] = field(default_factory=list)
    broken: list[tuple[Path, SluicewayError]] = field(default_factory=list)


def project_schedules(state: CliState) -> ProjectSchedules:
    """Load every pipeline file of the project (``sluiceway.yaml``, ``pipelines/*.yaml``).

    A file that does not load is kept in ``broken`` (the others are still scheduled), except
    ``sluiceway.yaml``, which names the project's state folder: its error is raised. Two files
    defining the same pipeline name are a :class:`ConfigError`.
    """
    root = state.root
    files = pipeline_files(root)
    if not files:
        raise ConfigError(
            f"no pipeline files in {root}",
            hint="Scheduling reads sluiceway.yaml and pipelines/*.yaml of a project; run this "
            "inside one (`sluiceway init DIR` creates one).",
        )
    found = ProjectSchedules(state_dir=root / STATE_DIR_NAME)
    seen: dict[str, Path] = {}
    for file in files:
        try:
            loaded = state.load_file(file)
        except SluicewayError as exc:
            if file.name == PROJECT_FILE:
                raise
            found.broken.append((file, exc))
            continue
        if file.name == PROJECT_FILE:
            found.state_dir = loaded.state_dir
        if loaded.name in seen:
            raise ConfigError(
                f"pipeline {loaded.name!r} is defined in both {seen[loaded.name]} and {file}",
                hint="Give each pipeline of the project its own name.",
            )
        seen[loaded.name] = file
        schedule = loaded.spec.schedule
        if schedule is None:
            found.unscheduled.append(loaded)
        else:
            found.scheduled.append(ScheduleEntry(loaded.name, schedule, loaded))
    return found


def report_problems(project: ProjectSchedules, *, debug: bool) -> None:
    """Print the files that did not load, and name the pipelines without a ``schedule:``."""
    err = render.stderr()
    for file, error in project.broken:
        err.print(Text(f"{file}: not scheduled, it does not load:", style="bold"))
        render.print_error(error, debug=debug)
    if project.unscheduled:
        names = ", ".join(p.name for p in project.unscheduled)
        err.print(f"Not scheduled (no `schedule:`): {names}")


def next_fire(entry: ScheduleEntry[LoadedPipeline], state: ScheduleState | None) -> datetime | None:
    """When ``entry`` fires next: as the scheduler recorded it, else (never served, or its
    schedule changed since) the next fire time from now. ``None`` when disabled."""
    if not entry.spec.enabled:
        return None
    if state is not None and state_matches(state, entry.spec):
        return state.next_fire_at
    now = utcnow()
    return trigger_for(entry.spec, anchor=now).next_after(now)


def schedules_table(
    entries: Sequence[ScheduleEntry[LoadedPipeline]], states: dict[str, ScheduleState]
) -> Table:
    """One row per scheduled pipeline: its schedule, policy, next and last fire times."""
    table = Table(title="schedules")
    for name in ("pipeline", "schedule", "timezone", "catch-up", "max active"):
        table.add_column(name)
    table.add_column("next fire (UTC)")
    table.add_column("last fire (UTC)")
    for entry in entries:
        spec = entry.spec
        state = states.get(entry.pipeline)
        current = state is not None and state_matches(state, entry.spec)
        upcoming = next_fire(entry, state)
        last = state.last_fire_at if state is not None and current else None
        table.add_row(
            entry.pipeline,
            spec.describe(),
            spec.timezone if spec.cron is not None else "—",
            spec.catchup if spec.catchup == "skip" else f"all (≤ {spec.catchup_limit})",
            str(spec.max_active_runs),
            _when(upcoming, spec.timezone) if spec.enabled else Text("disabled", style="dim"),
            _when(last, spec.timezone) if last is not None else Text("never", style="dim"),
        )
    return table


def list_schedules(state: CliState, *, as_json: bool, last: int) -> None:
    """Print each scheduled pipeline with its next and last fire and its ``last`` scheduled
    runs (a Rich table, or JSON)."""
    project = project_schedules(state)
    report_problems(project, debug=state.debug)
    with MetaStore.for_state_dir(project.state_dir) as store:
        states = {s.pipeline: s for s in list_schedule_states(store)}
        runs = dict(_scheduled_runs(project.scheduled, last, opened={project.state_dir: store}))
    if as_json:
        payload = [
            _as_dict(entry, states.get(entry.pipeline), runs[entry.pipeline])
            for entry in project.scheduled
        ]
        sys.stdout.write(json.dumps(redact_deep(payload), indent=2) + "\n")
        return
    out = render.stdout()
    if not project.scheduled:
        out.print("No pipeline of this project has a `schedule:` (see docs/scheduling.md).")
        return
    out.print(schedules_table(project.scheduled, states))
    for entry in project.scheduled:
        recent = runs[entry.pipeline]
        if not recent:
            out.print(f"{entry.pipeline}: no scheduled run yet.")
            continue
        table = render.runs_table(recent)
        table.title = f"{entry.pipeline} · last {len(recent)} scheduled run(s)"
        out.print(table)


def scheduled_runs(store: MetaStore, pipeline: str, last: int) -> list[RunRecord]:
    """The ``last`` most recent runs of ``pipeline`` the scheduler started, newest first."""
    if last < 1:
        return []
    return store.list_runs(pipeline=pipeline, trigger=SCHEDULE_TRIGGER, limit=last)


def _scheduled_runs(
    entries: Sequence[ScheduleEntry[LoadedPipeline]],
    last: int,
    *,
    opened: Mapping[Path, MetaStore],
) -> Iterator[tuple[str, list[RunRecord]]]:
    """Each pipeline's recent scheduled runs, from the store of its own state folder (the
    ``opened`` ones reused)."""
    with ExitStack() as stack:
        stores: dict[Path, MetaStore] = dict(opened)
        for entry in entries:
            folder = entry.payload.state_dir
            if folder not in stores:
                stores[folder] = stack.enter_context(MetaStore.for_state_dir(folder))
            yield entry.pipeline, scheduled_runs(stores[folder], entry.pipeline, last)


def _as_dict(
    entry: ScheduleEntry[LoadedPipeline], state: ScheduleState | None, runs: list[RunRecord]
) -> dict[str, Any]:
    spec = entry.spec
    current = state is not None and state_matches(state, entry.spec)
    upcoming = next_fire(entry, state)
    last = state.last_fire_at if state is not None and current else None
    return {
        "pipeline": entry.pipeline,
        "file": str(entry.payload.file),
        "schedule": spec.describe(),
        "timezone": spec.timezone,
        "catchup": spec.catchup,
        "catchup_limit": spec.catchup_limit,
        "max_active_runs": spec.max_active_runs,
        "enabled": spec.enabled,
        "next_fire_at": upcoming.isoformat() if upcoming is not None else None,
        "last_fire_at": last.isoformat() if last is not None else None,
        "details": dict(state.details) if state is not None and current else None,
        "runs": [render.record_dict(r) for r in runs],
    }


def _when(moment: datetime | None, zone: str) -> Text:
    """``2024-03-10 07:00:00``, and the local time for a schedule in another zone."""
    if moment is None:
        return Text("—", style="dim")
    shown = Text(moment.astimezone(UTC).strftime(_TIME))
    if zone != "UTC":
        local = moment.astimezone(ZoneInfo(zone))
        shown.append(f" ({local.strftime('%H:%M %Z')})", style="dim")
    return shown
