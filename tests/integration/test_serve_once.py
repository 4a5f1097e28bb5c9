"""`serve --once` over a real project: missed runs caught up into DuckDB, then `schedules`."""

from __future__ import annotations

import json
import textwrap
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from sluiceway.cli.commands.schedules import list_schedules
from sluiceway.cli.commands.serve import SERVE_LOCK, serve
from sluiceway.cli.context import CliState
from sluiceway.core.errors import ConfigError, PipelineLockedError
from sluiceway.core.status import RunStatus
from sluiceway.engine.run_lock import PipelineLock
from sluiceway.meta.schedules import ScheduleState, load_schedule_state, save_schedule_state
from sluiceway.meta.store import MetaStore
from sluiceway.scheduler.clock import ManualClock

pytestmark = pytest.mark.integration

NOW = datetime(2024, 6, 3, 12, 0, 30, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def shop(project: Path) -> Path:
    """A project whose `shop` pipeline runs every minute and catches up every missed run,
    last fired three minutes ago; `pipelines/other.yaml` has no schedule."""
    write(project / "orders.csv", "id,amount\n1,10\n2,20\n")
    write(
        project / "sluiceway.yaml",
        """
        pipeline: shop
        sources:
          orders: {type: csv, path: orders.csv, table: raw.orders}
        schedule: {every: 1m, catchup: all}
        """,
    )
    write(
        project / "pipelines" / "other.yaml",
        """
        pipeline: other
        sources:
          orders: {type: csv, path: ../orders.csv, table: raw.other}
        """,
    )
    last = NOW - 3 * MINUTE
    with MetaStore.for_state_dir(project / ".sluiceway") as store:
        save_schedule_state(
            store,
            ScheduleState(
                pipeline="shop",
                schedule="every 1m",
                last_fire_at=last,
                next_fire_at=last + MINUTE,
                updated_at=last,
                details={"anchor": last.isoformat(), "timezone": "UTC"},
            ),
        )
    return project


def test_serve_once_runs_the_missed_runs_and_records_them(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # tables wide enough for whole run ids
    code = serve(CliState(cwd=shop), once=True, clock=ManualClock(NOW))

    assert code == 0
    printed = capsys.readouterr()
    assert "Not scheduled (no `schedule:`): other" in printed.err
    assert "every 1m" in printed.out
    with MetaStore.for_state_dir(shop / ".sluiceway") as store:
        runs = store.list_runs(pipeline="shop")
        state = load_schedule_state(store, "shop")
        assert store.list_runs(pipeline="other") == []
    assert [(r.trigger, r.status) for r in runs] == [("schedule", RunStatus.SUCCEEDED)] * 3
    assert state is not None
    assert (state.last_fire_at, state.next_fire_at) == (NOW, NOW + MINUTE)
    assert state.details["launched"] == 3
    assert state.details["last_run"]["run_id"] == runs[0].run_id  # the newest, due last
    with duckdb.connect(str(shop / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT id, count(*) FROM raw.orders GROUP BY id ORDER BY id").fetchall()
    assert rows == [(1, 3), (2, 3)]  # appended once per run

    list_schedules(CliState(cwd=shop), as_json=True, last=2)
    (listed,) = json.loads(capsys.readouterr().out)
    assert (listed["pipeline"], listed["schedule"], listed["catchup"]) == (
        "shop",
        "every 1m",
        "all",
    )
    assert listed["last_fire_at"] == NOW.isoformat()
    assert listed["next_fire_at"] == (NOW + MINUTE).isoformat()
    assert [r["run_id"] for r in listed["runs"]] == [r.run_id for r in runs[:2]]
    assert {r["trigger"] for r in listed["runs"]} == {"schedule"}

    list_schedules(CliState(cwd=shop), as_json=False, last=5)
    table = capsys.readouterr().out
    assert "shop · last 3 scheduled run(s)" in table
    assert all(r.run_id in table for r in runs)


def test_pipelines_sharing_a_duckdb_file_take_turns(shop: Path) -> None:
    write(
        shop / "pipelines" / "other.yaml",
        """
        pipeline: other
        sources:
          orders: {type: csv, path: ../orders.csv, table: raw.other}
        schedule: {every: 1m, catchup: all}
        """,
    )
    with MetaStore.for_state_dir(shop / ".sluiceway") as store:
        shop_state = load_schedule_state(store, "shop")
        assert shop_state is not None
        save_schedule_state(store, replace(shop_state, pipeline="other"))

    # Both catch up three runs at once into a new DuckDB file: concurrent first runs would
    # conflict on its catalog (creating the bookkeeping schema) without taking turns.
    assert serve(CliState(cwd=shop), once=True, clock=ManualClock(NOW)) == 0

    with MetaStore.for_state_dir(shop / ".sluiceway") as store:
        runs = store.list_runs(limit=None)
    statuses = sorted((r.pipeline, r.status.value) for r in runs)
    assert statuses == [("other", "succeeded")] * 3 + [("shop", "succeeded")] * 3


def test_a_second_serve_of_the_project_is_refused(shop: Path) -> None:
    held, done = threading.Event(), threading.Event()

    def other_serve() -> None:
        with PipelineLock(shop / ".sluiceway", SERVE_LOCK):
            held.set()
            done.wait(10)

    holder = threading.Thread(target=other_serve)
    holder.start()
    try:
        assert held.wait(10)
        with pytest.raises(PipelineLockedError, match="`sluiceway serve` is already running"):
            serve(CliState(cwd=shop), once=True, clock=ManualClock(NOW))
    finally:
        done.set()
        holder.join()
    with MetaStore.for_state_dir(shop / ".sluiceway") as store:
        assert store.list_runs() == []


def test_a_scheduled_run_waits_for_a_run_that_holds_the_pipeline(shop: Path) -> None:
    """A `sluiceway run` in a terminal holds the pipeline: the scheduled runs queue behind it
    instead of failing, then load."""
    holding = PipelineLock(shop / ".sluiceway", "shop", run_id="terminal-run").acquire()
    outcome: list[int] = []
    worker = threading.Thread(
        target=lambda: outcome.append(serve(CliState(cwd=shop), once=True, clock=ManualClock(NOW)))
    )
    worker.start()
    worker.join(1.0)
    waiting = worker.is_alive()
    with MetaStore.for_state_dir(shop / ".sluiceway") as store:
        recorded_while_held = store.list_runs(pipeline="shop")
    holding.release()
    worker.join(120)
    assert waiting
    assert recorded_while_held == []
    assert outcome == [0]
    with MetaStore.for_state_dir(shop / ".sluiceway") as store:
        runs = store.list_runs(pipeline="shop")
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED] * 3


def test_a_broken_pipeline_file_is_left_out_and_the_others_run(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(shop / "pipelines" / "other.yaml", "pipeline: other\nsources: [not, a, mapping]\n")
    code = serve(CliState(cwd=shop), once=True, clock=ManualClock(NOW))
    assert code == 1  # a file did not load
    err = capsys.readouterr().err
    assert "other.yaml: not scheduled, it does not load" in err
    with MetaStore.for_state_dir(shop / ".sluiceway") as store:
        assert len(store.list_runs(pipeline="shop", trigger="schedule")) == 3


def test_a_broken_project_file_is_one_clear_error(shop: Path) -> None:
    write(shop / "sluiceway.yaml", "pipeline: shop\nsources: 12\n")
    with pytest.raises(ConfigError, match=r"sluiceway\.yaml"):
        serve(CliState(cwd=shop), once=True, clock=ManualClock(NOW))


def test_once_exits_1_when_a_run_fails(shop: Path) -> None:
    (shop / "orders.csv").unlink()
    assert serve(CliState(cwd=shop), once=True, clock=ManualClock(NOW)) == 1
    with MetaStore.for_state_dir(shop / ".sluiceway") as store:
        runs = store.list_runs(pipeline="shop", trigger="schedule")
    assert [r.status for r in runs] == [RunStatus.FAILED] * 3


def test_a_pipeline_never_seen_lists_its_next_fire_and_no_last(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "orders.csv", "id\n1\n")
    write(
        project / "sluiceway.yaml",
        """
        pipeline: fresh
        sources:
          orders: {type: csv, path: orders.csv}
        schedule: "@daily"
        """,
    )
    list_schedules(CliState(cwd=project), as_json=True, last=3)
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["last_fire_at"] is None
    assert listed["next_fire_at"] is not None
    assert listed["runs"] == []
