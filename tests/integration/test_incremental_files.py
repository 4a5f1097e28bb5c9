"""File sources read only new files; changed files follow the policy; state commits with rows."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from sluiceway.core.errors import DataError
from sluiceway.core.events import EventBus
from sluiceway.core.status import RunStatus, StepStatus
from sluiceway.engine.registry import Registry
from sluiceway.engine.runner import PipelineRunner, RunResult
from sluiceway.sources.files.tracking import FileTracker
from tests.conftest import WritePipeline

pytestmark = pytest.mark.integration


def pipeline(changed: str = "reload", checks: str = "") -> str:
    return f"""
        pipeline: drops
        quality: {{profile: false}}
        sources:
          orders:
            type: csv
            path: drops/*.csv
            write: merge
            primary_key: [id]
            incremental: {{files: true, changed: {changed}}}{checks}
        """


def drop(project: Path, name: str, rows: str) -> Path:
    folder = project / "drops"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text("id,amount\n" + rows)
    return path


def run(registry: Registry, path: Path) -> RunResult:
    return PipelineRunner(registry.load(path), registry=registry, bus=EventBus()).run()


def table(project: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(project / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def known_files(project: Path) -> list[str]:
    rows = table(project, "SELECT value FROM _sluiceway.state WHERE name = 'files'")
    return sorted(Path(p).name for p in json.loads(str(rows[0][0]))) if rows else []


def test_only_new_files_are_read_and_a_rerun_reads_nothing(
    project: Path, registry: Registry, write_pipeline: WritePipeline
) -> None:
    drop(project, "day1.csv", "1,10\n2,20\n")
    drop(project, "day2.csv", "3,30\n")
    path = write_pipeline(pipeline())

    first = run(registry, path)
    assert first.steps[0].rows_read == 3
    assert known_files(project) == ["day1.csv", "day2.csv"]

    drop(project, "day3.csv", "4,40\n5,50\n")
    second = run(registry, path)
    assert second.steps[0].rows_read == 2
    assert second.steps[0].notes[:2] == ("1 new file(s) read", "2 file(s) already loaded skipped")
    assert table(project, "SELECT count(*) FROM orders") == [(5,)]

    checksum = "SELECT sum(hash(id, amount)) FROM orders"
    before = table(project, checksum)
    third = run(registry, path)
    assert third.status is RunStatus.SUCCEEDED
    assert third.steps[0].load_id is None  # no load at all
    assert "nothing to load" in third.steps[0].notes[0]
    assert table(project, checksum) == before

    # A touched file (new mtime, same bytes) is not a change.
    stat = (project / "drops" / "day1.csv").stat()
    os.utime(project / "drops" / "day1.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert run(registry, path).steps[0].load_id is None


@pytest.mark.parametrize("changed", ["reload", "skip", "fail"])
def test_a_changed_file_follows_the_policy(
    project: Path, registry: Registry, write_pipeline: WritePipeline, changed: str
) -> None:
    day1 = drop(project, "day1.csv", "1,10\n2,20\n")
    path = write_pipeline(pipeline(changed))
    run(registry, path)
    day1.write_text("id,amount\n1,10\n2,22\n")  # row 2 corrected in place

    result = run(registry, path)

    amounts = table(project, "SELECT amount FROM orders ORDER BY id")
    if changed == "reload":
        assert result.steps[0].rows_updated == 1  # row 1 is the same: not rewritten
        assert result.steps[0].rows_unchanged == 1
        assert amounts == [(10,), (22,)]
    elif changed == "skip":
        assert result.steps[0].load_id is None
        assert amounts == [(10,), (20,)]
    else:
        assert result.steps[0].status is StepStatus.FAILED
        assert isinstance(result.steps[0].error, DataError)
        assert "day1.csv" in str(result.steps[0].error)
        assert amounts == [(10,), (20,)]


def test_files_of_a_failed_load_are_read_again(
    project: Path, registry: Registry, write_pipeline: WritePipeline
) -> None:
    drop(project, "day1.csv", "1,10\n")
    run(registry, write_pipeline(pipeline()))
    drop(project, "day2.csv", "2,-5\n")
    gate = "\n            checks: [{rule: range, column: amount, min: 0, on_fail: fail}]"

    failed = run(registry, write_pipeline(pipeline(checks=gate)))
    assert failed.status is RunStatus.FAILED
    assert known_files(project) == ["day1.csv"]

    again = run(registry, write_pipeline(pipeline()))
    assert again.steps[0].rows_read == 1
    assert known_files(project) == ["day1.csv", "day2.csv"]


def test_a_moved_project_still_knows_its_files(
    project: Path, registry: Registry, write_pipeline: WritePipeline
) -> None:
    drop(project, "day1.csv", "1,10\n2,20\n")
    run(registry, write_pipeline(pipeline()))
    stored = table(project, "SELECT value FROM _sluiceway.state WHERE name = 'files'")
    assert list(json.loads(str(stored[0][0]))) == ["drops/day1.csv"]  # relative to the project

    moved = project.parent / f"{project.name}-moved"
    shutil.copytree(project, moved)  # copy2: same bytes, same mtimes, another absolute path
    again = run(registry, moved / "sluiceway.yaml")
    assert again.steps[0].notes == ("nothing to load: no new or changed files (1 already loaded)",)
    assert table(moved, "SELECT count(*) FROM orders") == [(2,)]


def test_absolute_paths_kept_by_earlier_versions_read_as_relative(tmp_path: Path) -> None:
    folder = tmp_path / "drops"
    folder.mkdir()
    (folder / "a.csv").write_text("id\n1\n")
    facts = {"size": 5, "mtime_ns": (folder / "a.csv").stat().st_mtime_ns, "sha256": "x"}
    stored = json.dumps({str(folder / "a.csv"): facts, "/elsewhere/b.csv": facts})
    tracker = FileTracker.from_state(stored, "reload", base=tmp_path)
    assert sorted(tracker.known) == ["/elsewhere/b.csv", "drops/a.csv"]
