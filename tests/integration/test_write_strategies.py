"""Write strategies past the plain upsert: deletions (hard and soft), snapshot-diff CDC, SCD
type 2 with late-arriving changes, and partition overwrites — each checked row by row against
what the input says the table must hold."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sluiceway.core.errors import ConfigError
from sluiceway.core.events import EventBus
from sluiceway.core.status import RunStatus
from sluiceway.engine.registry import Registry
from sluiceway.engine.runner import PipelineRunner, RunResult
from tests.conftest import WritePipeline
from tests.integration.warehouse_targets import Target

pytestmark = pytest.mark.integration


@pytest.fixture
def pipeline(write_pipeline: WritePipeline, target: Target) -> WritePipeline:
    """Write a pipeline (the YAML of :func:`source`) loading into the ``target`` warehouse."""

    def write(text: str) -> Path:
        return write_pipeline(f"{text.rstrip()}\n{target.yaml(indent=8)}")

    return write


def run(registry: Registry, path: Path) -> RunResult:
    result = PipelineRunner(registry.load(path), registry=registry, bus=EventBus()).run()
    assert result.status is RunStatus.SUCCEEDED, [s.error for s in result.steps]
    return result


def source(extra: str, *, write: str = "merge", columns: str = "{}") -> str:
    options = textwrap.indent(textwrap.dedent(extra).strip(), " " * 12)
    return f"""
        pipeline: ws
        quality: {{profile: false}}
        sources:
          customers:
            type: csv
            path: customers.csv
            write: {write}
            primary_key: [id]
            columns: {columns}
{options}
        """


# -- merge with deletions --------------------------------------------------------------------


def test_hard_delete_removes_flagged_keys_and_the_flag_rows_load_nothing(
    project: Path, registry: Registry, pipeline: WritePipeline, target: Target
) -> None:
    csv = project / "customers.csv"
    csv.write_text("id,name,deleted\n1,ann,false\n2,bob,false\n3,cy,false\n")
    path = pipeline(source("delete: {column: deleted}"))
    run(registry, path)
    csv.write_text("id,name,deleted\n2,bob,true\n3,cyd,false\n4,dee,false\n9,nobody,true\n")
    second = run(registry, path).steps[0]
    assert target.rows("SELECT id, name FROM customers ORDER BY id") == [
        (1, "ann"),
        (3, "cyd"),
        (4, "dee"),
    ]
    # Two deletion rows; one key existed. One update, one insert.
    assert (second.rows_deleted, second.rows_updated, second.rows_inserted) == (1, 1, 1)


def test_delete_values_and_the_last_change_per_key_wins(
    project: Path, registry: Registry, pipeline: WritePipeline, target: Target
) -> None:
    csv = project / "customers.csv"
    csv.write_text("id,name,op\n1,ann,I\n2,bob,I\n")
    path = pipeline(source("delete: {column: op, values: [D, X]}"))
    run(registry, path)
    # Key 1 is deleted then inserted again (the insert is last: it wins); key 2 the reverse.
    csv.write_text("id,name,op\n1,,D\n1,ann2,I\n2,bob2,U\n2,,X\n")
    run(registry, path)
    assert target.rows("SELECT id, name, op FROM customers ORDER BY id") == [(1, "ann2", "I")]


def test_soft_delete_keeps_the_row_with_its_time_and_a_return_clears_it(
    project: Path, registry: Registry, pipeline: WritePipeline, target: Target
) -> None:
    csv = project / "customers.csv"
    csv.write_text("id,name,deleted\n1,ann,false\n2,bob,false\n")
    path = pipeline(source("delete: {column: deleted, mode: soft}"))
    run(registry, path)
    csv.write_text("id,name,deleted\n2,,true\n")
    second = run(registry, path).steps[0]
    assert second.rows_deleted == 1
    assert target.rows(
        "SELECT id, name, deleted, _sluiceway_deleted_at IS NOT NULL FROM customers ORDER BY id",
    ) == [(1, "ann", False, False), (2, "bob", True, True)]
    # Deleting it again changes nothing; bringing it back clears the mark.
    assert run(registry, path).steps[0].rows_deleted == 0
    csv.write_text("id,name,deleted\n2,bob,false\n")
    run(registry, path)
    assert target.rows("SELECT name, _sluiceway_deleted_at FROM customers WHERE id = 2") == [
        ("bob", None)
    ]


def test_delete_without_a_marker_column_is_a_config_error(
    project: Path, registry: Registry, pipeline: WritePipeline
) -> None:
    (project / "customers.csv").write_text("id,name\n1,ann\n")
    path = pipeline(source("delete: {mode: hard}"))
    result = PipelineRunner(registry.load(path), registry=registry, bus=EventBus()).run()
    error = result.steps[0].error
    assert isinstance(error, ConfigError)
    assert "needs a `column`" in error.message


# -- snapshot-diff CDC ------------------------------------------------------------------------


def test_snapshot_diff_gives_inserts_updates_and_deletes(
    project: Path, registry: Registry, pipeline: WritePipeline, target: Target
) -> None:
    csv = project / "customers.csv"
    csv.write_text("id,name\n1,ann\n2,bob\n3,cy\n")
    path = pipeline(source("cdc: snapshot"))
    run(registry, path)
    csv.write_text("id,name\n1,ann\n3,cyd\n4,dee\n")
    step = run(registry, path).steps[0]
    assert target.rows("SELECT id, name FROM customers ORDER BY id") == [
        (1, "ann"),
        (3, "cyd"),
        (4, "dee"),
    ]
    assert (step.rows_inserted, step.rows_updated, step.rows_deleted, step.rows_unchanged) == (
        1,
        1,
        1,
        1,
    )
    # The same snapshot again: nothing changes.
    again = run(registry, path).steps[0]
    assert (again.rows_loaded, again.rows_deleted, again.rows_unchanged) == (0, 0, 3)


def test_an_empty_snapshot_is_refused_and_the_table_kept(
    project: Path, registry: Registry, pipeline: WritePipeline, target: Target
) -> None:
    csv = project / "customers.csv"
    csv.write_text("id,name\n1,ann\n2,bob\n")
    path = pipeline(source("cdc: snapshot", columns="{id: BIGINT, name: VARCHAR}"))
    run(registry, path)
    csv.write_text("id,name\n")
    result = PipelineRunner(registry.load(path), registry=registry, bus=EventBus()).run()
    assert result.status is RunStatus.FAILED
    assert "would delete all 2 row(s)" in str(result.steps[0].error)
    assert target.rows("SELECT count(*) FROM customers") == [(2,)]


def test_snapshot_with_soft_deletes_marks_missing_keys(
    project: Path, registry: Registry, pipeline: WritePipeline, target: Target
) -> None:
    csv = project / "customers.csv"
    csv.write_text("id,name\n1,ann\n2,bob\n")
    path = pipeline(source("cdc: snapshot\ndelete: {mode: soft}"))
    run(registry, path)
    csv.write_text("id,name\n1,ann\n")
    run(registry, path)
    assert target.rows("SELECT id, _sluiceway_deleted_at IS NULL FROM customers ORDER BY id") == [
        (1, True),
        (2, False),
    ]


# -- SCD type 2 -------------------------------------------------------------------------------

SCD2_COLUMNS = "{changed: TIMESTAMP}"
HISTORY = (
    "SELECT id, city, valid_from::VARCHAR, valid_to::VARCHAR, is_current FROM customers "
    "ORDER BY id, valid_from"
)


def scd2(extra: str = "scd2: {changed_at: changed}") -> str:
    return source(extra, write="scd2", columns=SCD2_COLUMNS)


def test_scd2_versions_close_and_a_late_older_change_lands_in_history(
    project: Path, registry: Registry, pipeline: WritePipeline, target: Target
) -> None:
    csv = project / "customers.csv"
    header = "id,city,changed\n"
    csv.write_text(header + "1,Oslo,2024-01-01 00:00:00\n2,Rome,2024-01-01 00:00:00\n")
    path = pipeline(scd2())
    run(registry, path)
    csv.write_text(header + "1,Bergen,2024-03-01 00:00:00\n")
    second = run(registry, path).steps[0]
    assert (second.rows_inserted, "1 earlier version(s) closed" in second.notes) == (1, True)
    # A change from February arrives late: it goes between January and March.
    csv.write_text(header + "1,Tromso,2024-02-01 00:00:00\n")
    run(registry, path)
    assert target.rows(HISTORY) == [
        (1, "Oslo", "2024-01-01 00:00:00", "2024-02-01 00:00:00", False),
        (1, "Tromso", "2024-02-01 00:00:00", "2024-03-01 00:00:00", False),
        (1, "Bergen", "2024-03-01 00:00:00", None, True),
        (2, "Rome", "2024-01-01 00:00:00", None, True),
    ]
    hashes = target.rows("SELECT count(DISTINCT row_hash), count(*) FROM customers")
    assert hashes == [(4, 4)]


def test_scd2_rerunning_a_batch_or_resending_the_same_row_adds_no_version(
    project: Path, registry: Registry, pipeline: WritePipeline, target: Target
) -> None:
    csv = project / "customers.csv"
    header = "id,city,changed\n"
    batch = header + "1,Oslo,2024-01-01 00:00:00\n1,Bergen,2024-03-01 00:00:00\n"
    csv.write_text(batch)
    path = pipeline(scd2())
    run(registry, path)
    before = target.rows("SELECT *, _sluiceway_load_id FROM customers ORDER BY valid_from")
    again = run(registry, path).steps[0]
    assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (0, 0, 2)
    # The same data with a later change time is no change either.
    csv.write_text(header + "1,Bergen,2024-05-01 00:00:00\n")
    run(registry, path)
    after = target.rows("SELECT *, _sluiceway_load_id FROM customers ORDER BY valid_from")
    assert after == before


def test_scd2_delete_closes_the_current_version_and_a_return_opens_a_new_one(
    project: Path, registry: Registry, pipeline: WritePipeline, target: Target
) -> None:
    csv = project / "customers.csv"
    header = "id,city,changed,gone\n"
    csv.write_text(header + "1,Oslo,2024-01-01 00:00:00,false\n")
    path = pipeline(scd2("scd2: {changed_at: changed}\ndelete: {column: gone}"))
    run(registry, path)
    csv.write_text(header + "1,,2024-02-01 00:00:00,true\n")
    assert run(registry, path).steps[0].rows_deleted == 1
    assert run(registry, path).steps[0].rows_deleted == 0  # the same delete again: nothing
    csv.write_text(header + "1,Oslo,2024-04-01 00:00:00,false\n")
    run(registry, path)
    assert target.rows(HISTORY) == [
        (1, "Oslo", "2024-01-01 00:00:00", "2024-02-01 00:00:00", False),
        (1, "Oslo", "2024-04-01 00:00:00", None, True),
    ]


def test_scd2_without_a_change_column_versions_by_load_time(
    project: Path, registry: Registry, pipeline: WritePipeline, target: Target
) -> None:
    csv = project / "customers.csv"
    csv.write_text("id,city\n1,Oslo\n")
    path = pipeline(source("cdc: snapshot", write="scd2"))
    run(registry, path)
    csv.write_text("id,city\n1,Bergen\n2,Rome\n")
    run(registry, path)
    csv.write_text("id,city\n2,Rome\n")
    run(registry, path)
    history = target.rows(
        "SELECT id, city, valid_to IS NULL, is_current FROM customers ORDER BY id, valid_from",
    )
    assert history == [
        (1, "Oslo", False, False),
        (1, "Bergen", False, False),  # closed by the snapshot that no longer has key 1
        (2, "Rome", True, True),
    ]


def test_scd2_into_a_table_without_history_columns_is_refused(
    project: Path, registry: Registry, pipeline: WritePipeline
) -> None:
    csv = project / "customers.csv"
    csv.write_text("id,city,changed\n1,Oslo,2024-01-01 00:00:00\n")
    run(registry, pipeline(source("", columns=SCD2_COLUMNS)))
    result = PipelineRunner(
        registry.load(pipeline(scd2())), registry=registry, bus=EventBus()
    ).run()
    error = result.steps[0].error
    assert isinstance(error, ConfigError)
    assert "without the scd2 column(s)" in error.message


# -- insert_overwrite -------------------------------------------------------------------------


def test_insert_overwrite_replaces_only_the_partitions_the_rows_fall_in(
    project: Path, registry: Registry, pipeline: WritePipeline, target: Target
) -> None:
    csv = project / "customers.csv"
    csv.write_text(
        "id,sold_at,amount\n1,2024-01-01 10:00:00,5\n2,2024-01-01 11:00:00,6\n"
        "3,2024-01-02 09:00:00,7\n"
    )
    path = pipeline(
        source(
            "partition: {column: sold_at}",
            write="insert_overwrite",
            columns="{sold_at: TIMESTAMP}",
        )
    )
    run(registry, path)
    # Day 1 again (one row now) and a new day 3: day 2 stays as it was.
    csv.write_text("id,sold_at,amount\n7,2024-01-01 12:00:00,9\n8,2024-01-03 08:00:00,1\n")
    step = run(registry, path).steps[0]
    assert target.rows("SELECT id FROM customers ORDER BY id") == [(3,), (7,), (8,)]
    assert (step.rows_inserted, step.rows_deleted) == (2, 2)
    assert "2 partition(s) overwritten (2 row(s) replaced)" in step.notes
    # Running it again replaces the same partitions with the same rows.
    run(registry, path)
    assert target.rows("SELECT id FROM customers ORDER BY id") == [(3,), (7,), (8,)]


def test_insert_overwrite_by_month(
    project: Path, registry: Registry, pipeline: WritePipeline, target: Target
) -> None:
    csv = project / "customers.csv"
    csv.write_text("id,day\n1,2024-01-05\n2,2024-01-20\n3,2024-02-01\n")
    path = pipeline(
        source(
            "partition: {column: day, granularity: month}",
            write="insert_overwrite",
            columns="{day: DATE}",
        )
    )
    run(registry, path)
    csv.write_text("id,day\n4,2024-01-31\n")
    run(registry, path)
    assert target.rows("SELECT id FROM customers ORDER BY id") == [(3,), (4,)]


def test_soft_delete_takes_its_time_from_the_at_column(
    project: Path, registry: Registry, pipeline: WritePipeline, target: Target
) -> None:
    csv = project / "customers.csv"
    csv.write_text("id,name,deleted,changed\n1,ann,false,2024-01-01 00:00:00\n")
    options = "delete: {column: deleted, mode: soft, at: changed}"
    path = pipeline(source(options, columns="{changed: TIMESTAMP}"))
    run(registry, path)
    csv.write_text("id,name,deleted,changed\n1,,true,2024-02-03 04:05:06\n")
    run(registry, path)
    assert target.rows("SELECT _sluiceway_deleted_at::VARCHAR FROM customers") == [
        ("2024-02-03 04:05:06+00",)
    ]


# -- options that do not fit the write ---------------------------------------------------------


@pytest.mark.parametrize(
    ("write", "options", "message"),
    [
        ("append", "delete: {column: gone}", "`delete` needs `write: merge` or `write: scd2`"),
        ("append", "cdc: snapshot", "`cdc` needs `write: merge` or `write: scd2`"),
        ("merge", "scd2: {changed_at: at}", "`scd2` needs `write: scd2`"),
        ("merge", "partition: {column: day}", "`partition` needs `write: insert_overwrite`"),
        ("insert_overwrite", "", "`write: insert_overwrite` needs a `partition"),
        ("merge", "delete: {values: [D]}", "`delete.values` needs the `delete.column`"),
        ("merge", "delete: {column: gone, at: when}", "`delete.at` is for `mode: soft`"),
    ],
)
def test_write_options_that_do_not_fit_are_config_errors(
    registry: Registry, pipeline: WritePipeline, write: str, options: str, message: str
) -> None:
    path = pipeline(source(options, write=write))
    with pytest.raises(ConfigError) as caught:
        registry.load(path)
    assert message in str(caught.value)


def test_scd2_with_soft_deletes_is_refused(
    project: Path, registry: Registry, pipeline: WritePipeline
) -> None:
    (project / "customers.csv").write_text("id,city,gone\n1,Oslo,false\n")
    path = pipeline(source("delete: {column: gone, mode: soft}", write="scd2"))
    result = PipelineRunner(registry.load(path), registry=registry, bus=EventBus()).run()
    error = result.steps[0].error
    assert isinstance(error, ConfigError)
    assert "`delete.mode: soft` is for `write: merge`" in error.message


def test_a_calendar_granularity_needs_a_time_column(
    project: Path, registry: Registry, pipeline: WritePipeline
) -> None:
    (project / "customers.csv").write_text("id,region\n1,7\n")
    path = pipeline(
        source("partition: {column: region, granularity: month}", write="insert_overwrite")
    )
    result = PipelineRunner(registry.load(path), registry=registry, bus=EventBus()).run()
    error = result.steps[0].error
    assert isinstance(error, ConfigError)
    assert "needs a date or timestamp column" in error.message
