"""Cursor-based incremental loads: only new rows, late rows through a lookback, no duplicates,
and a cursor that moves only when its rows commit."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from sluiceway.core.errors import ConfigError
from sluiceway.core.events import EventBus
from sluiceway.core.status import RunStatus
from sluiceway.engine.registry import Registry
from sluiceway.engine.runner import PipelineRunner, RunResult
from tests.conftest import WritePipeline

pytestmark = pytest.mark.integration

HEADER = "id,amount,updated_at\n"
FIRST = "1,10,2024-03-01 08:00:00\n2,20,2024-03-01 09:00:00\n3,30,2024-03-01 10:00:00\n"


def pipeline(write: str = "append", incremental: str = "{cursor: updated_at}") -> str:
    return f"""
        pipeline: inc
        quality: {{profile: false}}
        sources:
          orders:
            type: csv
            path: orders.csv
            write: {write}
            primary_key: [id]
            columns: {{updated_at: TIMESTAMP}}
            incremental: {incremental}
        """


def run(registry: Registry, path: Path) -> RunResult:
    result = PipelineRunner(registry.load(path), registry=registry, bus=EventBus()).run()
    return result


def table(project: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(project / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def cursor(project: Path) -> object:
    rows = table(project, "SELECT value FROM _sluiceway.state WHERE name = 'cursor'")
    return json.loads(str(rows[0][0]))["value"] if rows else None


def test_each_run_loads_only_rows_past_the_cursor(
    project: Path, registry: Registry, write_pipeline: WritePipeline
) -> None:
    (project / "orders.csv").write_text(HEADER + FIRST)
    path = write_pipeline(pipeline())

    first = run(registry, path)
    assert first.status is RunStatus.SUCCEEDED, first.steps[0].error
    assert first.steps[0].rows_inserted == 3
    assert cursor(project) == "2024-03-01T10:00:00"

    # The file grows: two new rows, one of them older than the cursor (it is skipped).
    (project / "orders.csv").write_text(
        HEADER + FIRST + "4,40,2024-03-02 08:00:00\n5,50,2024-03-01 07:00:00\n"
    )
    second = run(registry, path)
    assert second.steps[0].rows_inserted == 1
    assert "4 row(s) at or behind the cursor skipped" in second.steps[0].notes
    assert table(project, "SELECT id FROM orders ORDER BY id") == [(1,), (2,), (3,), (4,)]
    assert cursor(project) == "2024-03-02T08:00:00"

    # Nothing new: nothing loads, the table and the cursor stay as they are.
    checksum = "SELECT sum(hash(id, amount, updated_at)) FROM orders"
    before = table(project, checksum)
    third = run(registry, path)
    assert third.steps[0].rows_inserted == 0
    assert table(project, checksum) == before
    assert cursor(project) == "2024-03-02T08:00:00"


def test_a_lookback_absorbs_late_rows_without_duplicates(
    project: Path, registry: Registry, write_pipeline: WritePipeline
) -> None:
    (project / "orders.csv").write_text(HEADER + FIRST)
    path = write_pipeline(pipeline("merge", "{cursor: updated_at, lookback: 2h}"))
    run(registry, path)

    # A late row 90 minutes behind the cursor, and row 3 corrected at the same time stamp.
    (project / "orders.csv").write_text(
        HEADER + FIRST.replace("3,30", "3,33") + "6,60,2024-03-01 08:30:00\n"
    )
    second = run(registry, path)

    assert second.status is RunStatus.SUCCEEDED, second.steps[0].error
    assert table(project, "SELECT id, amount FROM orders ORDER BY id") == [
        (1, 10),
        (2, 20),
        (3, 33),
        (6, 60),
    ]
    assert cursor(project) == "2024-03-01T10:00:00"


def test_bounds_from_initial_and_end_values(
    project: Path, registry: Registry, write_pipeline: WritePipeline
) -> None:
    (project / "orders.csv").write_text(HEADER + FIRST)
    spec = (
        '{cursor: updated_at, initial_value: "2024-03-01 09:00:00", '
        'end_value: "2024-03-01 10:00:00"}'
    )
    result = run(registry, write_pipeline(pipeline(incremental=spec)))

    assert table(project, "SELECT id FROM orders") == [(2,)]
    assert "1 row(s) at or past end_value skipped" in result.steps[0].notes


def test_a_failed_load_leaves_the_cursor_where_it_was(
    project: Path, registry: Registry, write_pipeline: WritePipeline
) -> None:
    (project / "orders.csv").write_text(HEADER + FIRST)
    path = write_pipeline(pipeline())
    run(registry, path)
    (project / "orders.csv").write_text(HEADER + FIRST + "4,-1,2024-03-05 00:00:00\n")
    failing = pipeline().replace(
        "incremental:",
        "checks: [{rule: range, column: amount, min: 0, on_fail: fail}]\n            incremental:",
    )
    result = run(registry, write_pipeline(failing))

    assert result.status is RunStatus.FAILED
    assert cursor(project) == "2024-03-01T10:00:00"
    assert table(project, "SELECT count(*) FROM orders") == [(3,)]


@pytest.mark.parametrize(
    ("write", "incremental", "message"),
    [
        ("append", "{cursor: updated_at, lookback: 2h}", "without a merge on the primary key"),
        ("replace", "{cursor: updated_at}", "writes with `replace`"),
        ("merge", "{cursor: updated_at, lookback: 5}", "lookback 5 is a number"),
        ("append", "{cursor: id}", "the stored cursor is on column 'updated_at'"),
    ],
)
def test_incremental_mistakes_are_config_errors(
    project: Path,
    registry: Registry,
    write_pipeline: WritePipeline,
    *,
    write: str,
    incremental: str,
    message: str,
) -> None:
    (project / "orders.csv").write_text(HEADER + FIRST)
    run(registry, write_pipeline(pipeline()))  # a stored cursor, so lookbacks apply

    result = run(registry, write_pipeline(pipeline(write, incremental)))

    error = result.steps[0].error
    assert isinstance(error, ConfigError)
    assert message in str(error)


def test_a_numeric_cursor(project: Path, registry: Registry, write_pipeline: WritePipeline) -> None:
    (project / "orders.csv").write_text(HEADER + FIRST)
    path = write_pipeline(pipeline("merge", "{cursor: id, lookback: 1}"))
    run(registry, path)
    (project / "orders.csv").write_text(HEADER + FIRST + "4,40,2024-03-02 00:00:00\n")

    second = run(registry, path)

    assert second.steps[0].rows_read == 3  # ids 2 and 3 (the lookback: id >= 3 - 1) and 4
    assert cursor(project) == 4
    assert table(project, "SELECT count(*) FROM orders") == [(4,)]


def test_an_initial_value_of_the_wrong_type_is_a_config_error(
    project: Path, registry: Registry, write_pipeline: WritePipeline
) -> None:
    (project / "orders.csv").write_text(HEADER + FIRST)

    result = run(
        registry, write_pipeline(pipeline(incremental="{cursor: id, initial_value: soon}"))
    )

    error = result.steps[0].error
    assert isinstance(error, ConfigError)
    assert "initial_value 'soon' is not a value of the cursor's type int64" in str(error)
