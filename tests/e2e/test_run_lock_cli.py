"""Running a pipeline twice at once: the second run is refused, the first is not disturbed.

NEEDS THE RUNNER WIRING: these tests pass once ``PipelineRunner.run`` takes the pipeline's
run lock (``sluiceway.engine.run_lock.PipelineLock``) before it opens the warehouse. Without
it a second DuckDB run is still refused, by DuckDB's file lock, but with a different message
(no run id), which the assertions below tell apart on purpose.

The first run is a real ``sluiceway run`` process. Once it has staged its first batch it is
frozen with SIGSTOP, so it holds the lock for as long as the test needs, whatever the
machine's speed; SIGCONT lets it finish.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from tests.e2e.cli_process import COMMAND, sluiceway

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROWS = 100_000


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT i AS id, 'name ' || i AS name FROM range({ROWS}) t(i)) "
            f"TO '{tmp_path / 'orders.csv'}' (HEADER)"
        )
    (tmp_path / "sluiceway.yaml").write_text(
        textwrap.dedent(
            """\
            pipeline: shop
            defaults: {batch_size: 2000}
            sources:
              orders:
                type: csv
                path: orders.csv
                incremental: {cursor: id}
            """
        )
    )
    return tmp_path


@contextmanager
def first_run(root: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Start ``sluiceway run``; yield it, stopped after its first staged batch, and its run id.

    The caller continues it (SIGCONT) and waits for it; it is killed if the test fails first.
    """
    with subprocess.Popen(
        [*COMMAND, "--log-format", "json", "run"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    ) as process:
        try:
            assert process.stderr is not None
            run_id = ""
            for line in process.stderr:
                event = json.loads(line)
                if event["event"] == "run_started":
                    run_id = event["run_id"]
                if event["event"] == "batch_staged":
                    process.send_signal(signal.SIGSTOP)
                    break
            assert run_id, "the first run never started"
            yield process, run_id
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGCONT)
                process.send_signal(signal.SIGKILL)
                process.wait(60)


def table(root: Path) -> tuple[int, int, int]:
    """(rows, distinct ids, committed loads) of the warehouse, read by a fresh connection."""
    with duckdb.connect(str(root / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        rows, ids = con.execute("SELECT count(*), count(DISTINCT id) FROM orders").fetchall()[0]
        (loads,) = con.execute("SELECT count(*) FROM _sluiceway.loads").fetchall()[0]
    return int(rows), int(ids), int(loads)


def test_a_second_run_is_refused_while_the_first_runs(shop: Path) -> None:
    with first_run(shop) as (process, run_id):
        second = sluiceway("run", cwd=shop)
        assert second.returncode == 1
        text = " ".join(second.stderr.split())  # the console wraps long lines
        assert f"pipeline 'shop' is already running (run {run_id}, pid {process.pid} on " in text
        assert "frees itself when that process ends" in text
        assert "Traceback" not in second.stderr

        # Moving the cursor under a running load is refused the same way.
        reset = sluiceway("state", "reset", "--yes", cwd=shop)
        assert reset.returncode == 1
        assert f"pipeline 'shop' is already running (run {run_id}" in " ".join(reset.stderr.split())

        process.send_signal(signal.SIGCONT)
        assert process.stderr is not None
        events = [json.loads(line)["event"] for line in process.stderr]
        process.wait(60)
    assert process.returncode == 0
    assert "run_finished" in events
    assert table(shop) == (ROWS, ROWS, 1)

    # The refused run never started: the history holds the first run alone.
    runs = json.loads(sluiceway("runs", "--json", cwd=shop).stdout)
    assert [(r["run_id"], r["status"]) for r in runs] == [(run_id, "succeeded")]

    # Once the first run is over the lock is free: the next run goes ahead (nothing new).
    again = sluiceway("run", cwd=shop)
    assert again.returncode == 0, again.stderr
    assert table(shop)[:2] == (ROWS, ROWS)


def test_a_killed_run_leaves_no_lock_behind(shop: Path) -> None:
    with first_run(shop) as (process, _):
        process.send_signal(signal.SIGKILL)  # stopped or not, SIGKILL ends it: no cleanup
        process.wait(60)
    assert process.returncode == -signal.SIGKILL
    assert (shop / ".sluiceway" / "locks" / "shop.lock").exists()

    again = sluiceway("run", cwd=shop)
    assert again.returncode == 0, again.stderr
    assert table(shop) == (ROWS, ROWS, 1)
