"""SIGKILL a loading process at any point: the target is as it was, or the load is all there.

The loader runs as a real ``sluiceway run`` process with JSON event logs on stderr; the test
reads those events and kills the process with SIGKILL (no cleanup, no atexit) at a chosen
moment. Then it checks the warehouse from a new process and runs the pipeline again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import textwrap
from pathlib import Path

import duckdb
import pytest

from tests.e2e.cli_process import COMMAND, sluiceway

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROWS = 200_000


def make_project(root: Path, write: str) -> Path:
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT i AS id, 'name ' || i AS name, i * 1.5 AS amount FROM range({ROWS}) t(i)) "
        f"TO '{root / 'data.csv'}' (HEADER)"
    )
    con.close()
    key = "\n    primary_key: [id]" if write == "merge" else ""
    (root / "sluiceway.yaml").write_text(
        textwrap.dedent(
            f"""\
            pipeline: killme
            defaults: {{batch_size: 2000}}
            sources:
              items:
                type: csv
                path: data.csv
                write: {write}"""
        )
        + key
        + "\n"
    )
    return root


def snapshot(root: Path) -> tuple[int, int, int]:
    """(rows, distinct ids, committed loads) read by a fresh process-like connection."""
    with duckdb.connect(str(root / ".sluiceway" / "warehouse.duckdb")) as con:
        rows, ids = con.execute("SELECT count(*), count(DISTINCT id) FROM items").fetchall()[0]
        (loads,) = con.execute("SELECT count(*) FROM _sluiceway.loads").fetchall()[0]
    return int(rows), int(ids), int(loads)


def run_and_kill(root: Path, *, after_batches: int | None) -> int:
    """Start a run; SIGKILL it after N batch events (None: right after the last batch)."""
    seen = 0
    target = after_batches if after_batches is not None else ROWS // 2000
    with subprocess.Popen(
        [*COMMAND, "--log-format", "json", "run"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:
            event = json.loads(line)
            if event["event"] == "batch_staged":
                seen += 1
                if seen >= target:
                    process.send_signal(signal.SIGKILL)
                    break
        process.wait(60)
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    return seen


@pytest.mark.parametrize("write", ["append", "merge"])
def test_kill_mid_stage_leaves_the_target_as_it_was(tmp_path: Path, write: str) -> None:
    root = make_project(tmp_path, write)
    first = sluiceway("run", cwd=root)
    assert first.returncode == 0, first.stderr
    before = snapshot(root)
    assert before == (ROWS, ROWS, 1)

    seen = run_and_kill(root, after_batches=5)
    assert seen == 5
    assert snapshot(root) == before

    # The killed run is not left "running" forever: its dead process is noticed.
    runs = json.loads(sluiceway("runs", "--json", cwd=root).stdout)
    assert [r["status"] for r in runs] == ["failed", "succeeded"]
    assert "died" in runs[0]["error_message"]

    again = sluiceway("run", cwd=root)
    assert again.returncode == 0, again.stderr
    expected_rows = ROWS * 2 if write == "append" else ROWS
    assert snapshot(root) == (expected_rows, ROWS, 2)


def test_kill_around_commit_is_all_or_nothing(tmp_path: Path) -> None:
    root = make_project(tmp_path, "merge")
    assert sluiceway("run", cwd=root).returncode == 0
    # Change every amount so a committed second load is visible in the data.
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT i AS id, 'name ' || i AS name, i * 3.0 AS amount "
            f"FROM range({ROWS}) t(i)) TO '{root / 'data.csv'}' (HEADER)"
        )
    run_and_kill(root, after_batches=None)
    rows, ids, loads = snapshot(root)
    with duckdb.connect(str(root / ".sluiceway" / "warehouse.duckdb")) as con:
        (changed,) = con.execute(
            "SELECT count(*) FROM items WHERE id > 0 AND amount = id * 3.0"
        ).fetchall()[0]
    assert (rows, ids) == (ROWS, ROWS)
    # Either all of the second load is visible together with its record, or none of it is.
    if loads == 2:
        assert changed == ROWS - 1
    else:
        assert (loads, changed) == (1, 0)


def test_ctrl_c_mid_load_cancels_the_run_and_keeps_nothing(tmp_path: Path) -> None:
    root = make_project(tmp_path, "append")
    assert sluiceway("run", cwd=root).returncode == 0
    before = snapshot(root)
    with subprocess.Popen(
        [*COMMAND, "--log-format", "json", "run"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:
            if line.startswith("{") and json.loads(line)["event"] == "batch_staged":
                process.send_signal(signal.SIGINT)
                break
        tail = process.stderr.readlines()
        process.wait(60)
    assert process.returncode == 130
    assert "Interrupted." in "".join(tail)
    assert "Traceback" not in "".join(tail)
    assert snapshot(root) == before
    runs = json.loads(sluiceway("runs", "--json", cwd=root).stdout)
    assert runs[0]["status"] == "cancelled"
