"""Orchestration from the command line: plan and dag, pause / resume / cancel from another
terminal while a run is going, restart of a failed run, circuit breakers, JSON logs."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import textwrap
import threading
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.e2e.cli_process import COMMAND, sluiceway

pytestmark = pytest.mark.e2e

ROWS = 400_000  # 800 batches: far more log than a pipe buffers


def write_project(root: Path, text: str) -> Path:
    (root / "sluiceway.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def csv(root: Path, name: str, rows: int) -> None:
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT i AS id, 'name ' || i AS name FROM range({rows}) t(i)) "
            f"TO '{root / name}' (HEADER)"
        )


def count(root: Path, table: str) -> int:
    with duckdb.connect(str(root / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        found = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert found is not None
    return int(found[0])


class LiveRun:
    """``sluiceway --log-format json run`` in a subprocess.

    Until :meth:`follow`, nothing reads its log, so once the pipe's buffer is full the run
    blocks on its next log line: it cannot finish before the test has sent its command. Then a
    thread reads the events onto a queue.
    """

    def __init__(self, root: Path) -> None:
        self.process = subprocess.Popen(
            [*COMMAND, "--log-format", "json", "run"],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)

    def first(self, name: str) -> dict[str, Any]:
        """Read the log directly up to the first ``name`` event, then stop reading."""
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if line.startswith("{") and json.loads(line)["event"] == name:
                return dict(json.loads(line))
        raise AssertionError(f"the run ended before {name}")

    def follow(self) -> None:
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if line.startswith("{"):
                self.events.put(json.loads(line))
        self.events.put(None)

    def until(self, name: str, timeout: float = 60) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Events up to the first ``name``; returns it and those before it."""
        before: list[dict[str, Any]] = []
        while True:
            event = self.events.get(timeout=timeout)
            assert event is not None, f"the run ended before {name}: {before[-3:]}"
            if event["event"] == name:
                return event, before
            before.append(event)

    def quiet_for(self, seconds: float) -> list[dict[str, Any]]:
        """The events that arrive within ``seconds``."""
        seen: list[dict[str, Any]] = []
        try:
            while True:
                event = self.events.get(timeout=seconds)
                if event is None:
                    return seen
                seen.append(event)
        except queue.Empty:
            return seen

    def finish(self) -> int:
        code = self.process.wait(120)
        self.reader.join(30)
        assert self.process.stderr is not None
        self.process.stderr.close()
        return code


@pytest.fixture
def big_project(tmp_path: Path) -> Path:
    csv(tmp_path, "items.csv", ROWS)
    csv(tmp_path, "later.csv", 1000)
    return write_project(
        tmp_path,
        """
        pipeline: live
        defaults: {batch_size: 500}
        execution: {max_workers: 1}
        sources:
          items: {type: csv, path: items.csv}
          later: {type: csv, path: later.csv, depends_on: [items]}
        """,
    )


def test_pause_and_resume_from_another_terminal(big_project: Path) -> None:
    live = LiveRun(big_project)
    run_id = live.first("batch_staged")["run_id"]
    paused = sluiceway("pause", run_id, cwd=big_project)
    live.follow()
    assert paused.returncode == 0, paused.stderr
    assert f"Asked run {run_id} to pause" in paused.stdout
    live.until("run_paused")
    live.quiet_for(0.5)  # a batch already in flight may still land
    listed = json.loads(sluiceway("runs", "--json", cwd=big_project).stdout)
    assert listed[0]["status"] == "paused"
    assert [e["event"] for e in live.quiet_for(1.5)] == []  # held: no batch while paused
    again = sluiceway("pause", run_id, cwd=big_project)
    assert again.returncode == 1
    assert "already paused" in again.stderr

    assert sluiceway("resume", run_id, cwd=big_project).returncode == 0
    live.until("run_resumed")
    finished, _ = live.until("run_finished")
    assert live.finish() == 0
    assert finished["status"] == "succeeded"
    assert count(big_project, "items") == ROWS  # every row once: nothing redone or lost
    assert count(big_project, "later") == 1000


def test_cancel_from_another_terminal_rolls_back_and_skips_the_rest(big_project: Path) -> None:
    live = LiveRun(big_project)
    run_id = live.first("batch_staged")["run_id"]
    cancelled = sluiceway("cancel", run_id, cwd=big_project)
    live.follow()
    assert cancelled.returncode == 0, cancelled.stderr
    finished, before = live.until("run_finished")
    code = live.finish()
    assert finished["status"] == "cancelled"
    assert code == 1
    steps = {e["step"]: e for e in before if e["event"] == "step_finished"}
    assert steps["items"]["status"] == "cancelled"
    assert steps["later"]["status"] == "cancelled"
    assert steps["later"]["started"] is False
    shown = json.loads(sluiceway("runs", "show", run_id, "--json", cwd=big_project).stdout)
    assert {s["step"]: s["status"] for s in shown["steps"]} == {
        "items": "cancelled",
        "later": "cancelled",
    }
    table = sluiceway("runs", "show", run_id, cwd=big_project).stdout
    assert "the run was cancelled before it started" in table  # why `later` never ran
    with pytest.raises(duckdb.CatalogException):
        count(big_project, "items")
    refused = sluiceway("cancel", run_id, cwd=big_project)
    assert refused.returncode == 1
    assert "already finished (cancelled)" in refused.stderr


def test_restart_reruns_only_failed_skipped_and_blocked_steps(tmp_path: Path) -> None:
    csv(tmp_path, "customers.csv", 10)
    csv(tmp_path, "products.csv", 7)
    root = write_project(
        tmp_path,
        """
        pipeline: shop
        sources:
          customers: {type: csv, path: customers.csv}
          orders: {type: csv, path: orders.csv, references: [customers]}
          items: {type: csv, path: items.csv, depends_on: [orders]}
          products: {type: csv, path: products.csv}
        """,
    )
    failed = sluiceway("run", "--json", cwd=root)
    assert failed.returncode == 1
    first = json.loads(failed.stdout)
    assert {s["step"]: s["status"] for s in first["steps"]} == {
        "customers": "succeeded",
        "products": "succeeded",
        "orders": "failed",
        "items": "skipped",
    }
    csv(root, "orders.csv", 5)
    csv(root, "items.csv", 3)
    restarted = sluiceway("restart", first["run_id"][:10], "--json", cwd=root)
    assert restarted.returncode == 0, restarted.stderr
    second = json.loads(restarted.stdout)
    assert [s["step"] for s in second["steps"]] == ["orders", "items"]
    assert f"Restarting orders, items of run {first['run_id']}" in restarted.stderr
    with duckdb.connect(str(root / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        loads = dict(
            con.execute("SELECT source, count(*) FROM _sluiceway.loads GROUP BY ALL").fetchall()
        )
    assert loads == {"customers": 1, "products": 1, "orders": 1, "items": 1}
    shown = json.loads(sluiceway("runs", "show", second["run_id"], "--json", cwd=root).stdout)
    assert shown["details"]["restart_of"] == first["run_id"]
    nothing = sluiceway("restart", second["run_id"], cwd=root)
    assert nothing.returncode == 1
    assert "no failed, skipped, blocked or cancelled step" in nothing.stderr


def test_plan_and_dag_show_levels_and_reasons(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        """
        pipeline: shop
        execution: {max_workers: 3, limits: {warehouse: 2}}
        sources:
          items: {type: csv, path: items.csv, depends_on: [orders]}
          orders: {type: csv, path: orders.csv, references: [customers]}
          customers: {type: csv, path: customers.csv}
        """,
    )
    shown = sluiceway("plan", cwd=root)
    assert shown.returncode == 0, shown.stderr
    assert "up to 3 step(s) at once" in shown.stdout
    assert "customers (references customers)" in shown.stdout
    assert "orders (depends_on)" in shown.stdout
    assert "warehouse (≤2)" in shown.stdout
    plan = json.loads(sluiceway("plan", "--json", cwd=root).stdout)
    assert plan["levels"] == [["customers"], ["orders"], ["items"]]
    assert {"from": "customers", "to": "orders", "reason": "references customers"} in plan["edges"]
    mermaid = sluiceway("dag", "--format", "mermaid", cwd=root)
    assert mermaid.returncode == 0, mermaid.stderr
    assert mermaid.stdout.startswith("---") or "flowchart LR" in mermaid.stdout
    picture = tmp_path / "dag.svg"
    drawn = sluiceway("dag", "-f", "svg", "--out", str(picture), cwd=root)
    assert drawn.returncode == 0, drawn.stderr
    assert picture.read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_a_cycle_is_reported_before_anything_runs(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        """
        pipeline: loop
        sources:
          a: {type: csv, path: a.csv, depends_on: [b]}
          b: {type: csv, path: b.csv, depends_on: [a]}
        """,
    )
    done = sluiceway("run", cwd=root)
    assert done.returncode == 1
    assert "cycle: a -> b -> a" in done.stderr
    assert json.loads(sluiceway("runs", "--json", cwd=root).stdout) == []


def test_breakers_list_and_reset(tmp_path: Path) -> None:
    csv(tmp_path, "a.csv", 3)
    root = write_project(
        tmp_path,
        """
        pipeline: brk
        execution: {retry: {attempts: 2, base_delay: 10ms}, breaker: {failures: 1}}
        sources:
          remote:
            type: postgres
            connection: ${BAD_DB}
            source_table: t
          local: {type: csv, path: a.csv}
        """,
    )
    env = {"BAD_DB": "postgresql://nobody:hunter2@127.0.0.1:1/nowhere"}
    done = sluiceway("--log-format", "json", "run", cwd=root, env=env)
    assert done.returncode == 1
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    opened = [e for e in events if e["event"] == "circuit_opened"]
    assert len(opened) == 1, done.stderr
    assert opened[0]["endpoint"] == "postgres://127.0.0.1:1/nowhere"
    assert "hunter2" not in done.stderr
    finished = {e["step"]: e for e in events if e["event"] == "step_finished"}
    assert finished["remote"]["attempt"] == 1  # the breaker opened: no second try
    assert finished["remote"]["error_class"] == "transient"
    assert finished["local"]["status"] == "succeeded"
    assert {"run_id", "step", "attempt", "rows_in", "duration_s"} <= set(finished["local"])

    listed = json.loads(sluiceway("breakers", "--json", cwd=root, env=env).stdout)
    assert [(b["endpoint"], b["state"], b["failures"]) for b in listed] == [
        ("postgres://127.0.0.1:1/nowhere", "open", 1)
    ]
    again = json.loads(sluiceway("run", "--json", cwd=root, env=env).stdout)
    assert {s["step"]: s["status"] for s in again["steps"]}["remote"] == "blocked"
    reset = sluiceway(
        "breakers", "reset", "postgresql://nobody:hunter2@127.0.0.1:1/nowhere", cwd=root, env=env
    )
    assert reset.returncode == 0
    assert "hunter2" not in reset.stdout
    listed = json.loads(sluiceway("breakers", "--json", cwd=root, env=env).stdout)
    assert listed[0]["state"] == "closed"
