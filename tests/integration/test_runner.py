"""The runner: steps, failures that stay contained, events, the contract before staging."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from sluiceway.core.errors import ConfigError, MalformedInputError, SchemaError
from sluiceway.core.events import Event, EventBus, EventKind
from sluiceway.core.status import RunStatus, StepStatus
from sluiceway.engine.registry import Registry
from sluiceway.engine.runner import PipelineRunner
from sluiceway.sources.base import CancelToken
from sluiceway.sources.registry import builtin_sources
from tests.conftest import Recorder, RunPipeline, WritePipeline
from tests.fakes import FAKE_ROWS, FakeSource

pytestmark = pytest.mark.integration


@pytest.fixture
def registry() -> Registry:
    sources = builtin_sources()
    sources.register(FakeSource)
    return Registry(sources=sources)


def table_rows(project: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(project / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_two_sources_load_and_events_tell_the_story(
    project: Path, write_pipeline: WritePipeline, run_pipeline: RunPipeline
) -> None:
    (project / "a.csv").write_text("id,name\n1,x\n2,y\n")
    FAKE_ROWS["b"] = [{"k": i} for i in range(5)]
    path = write_pipeline(
        """
        pipeline: two
        defaults: {batch_size: 2}
        sources:
          a: {type: csv, path: a.csv, table: raw.a}
          b: {type: fake, dataset: b}
        """
    )
    recorder = Recorder()
    result = run_pipeline(path, recorder=recorder)
    assert result.status is RunStatus.SUCCEEDED
    assert [(s.name, s.status, s.rows_read, s.rows_inserted) for s in result.steps] == [
        ("a", StepStatus.SUCCEEDED, 2, 2),
        ("b", StepStatus.SUCCEEDED, 5, 5),
    ]
    assert table_rows(project, "SELECT id, name FROM raw.a ORDER BY id") == [(1, "x"), (2, "y")]
    kinds = recorder.kinds()
    assert kinds[0] == "run_started"
    assert kinds[-1] == "run_finished"
    assert kinds.count("step_started") == kinds.count("step_finished") == 2
    assert kinds.count("load_committed") == 2
    # b has 5 rows in batches of 2: three batch events with running totals
    b_batches = [
        e.data["rows"] for e in recorder.events if e.step == "b" and e.kind.value == "batch_staged"
    ]
    assert b_batches == [2, 4, 5]


def test_a_failing_step_rolls_back_alone(
    project: Path, write_pipeline: WritePipeline, run_pipeline: RunPipeline
) -> None:
    FAKE_ROWS["good"] = [{"id": i} for i in range(3)]
    FAKE_ROWS["bad"] = [{"id": i} for i in range(10)]
    path = write_pipeline(
        """
        pipeline: partial
        defaults: {batch_size: 2}
        sources:
          bad: {type: fake, dataset: bad, fail_after_batches: 2}
          good: {type: fake, dataset: good}
        """
    )
    result = run_pipeline(path)
    assert result.status is RunStatus.FAILED
    bad, good = result.steps
    assert bad.status is StepStatus.FAILED
    # the source's own error, with its location, not the warehouse's wrapper
    assert isinstance(bad.error, MalformedInputError)
    assert "injected failure" in str(bad.error)
    assert bad.rows_read == 4  # two batches were read before the failure
    assert good.status is StepStatus.SUCCEEDED
    assert table_rows(project, "SELECT count(*) FROM good") == [(3,)]
    tables = {r[0] for r in table_rows(project, "SELECT table_name FROM information_schema.tables")}
    assert "bad" not in tables
    loads = table_rows(project, "SELECT source FROM _sluiceway.loads")
    assert loads == [("good",)]


def test_a_frozen_table_refuses_a_changed_schema_before_anything_is_staged(
    project: Path, write_pipeline: WritePipeline, run_pipeline: RunPipeline
) -> None:
    data = project / "data.csv"
    data.write_text("id,price\n1,2.5\n")
    path = write_pipeline(
        """
        pipeline: strict
        sources:
          items: {type: csv, path: data.csv, schema: {policy: freeze}}
        """
    )
    assert run_pipeline(path).status is RunStatus.SUCCEEDED
    data.write_text("id,cost\n2,3.5\n")
    result = run_pipeline(path)
    (step,) = result.steps
    assert isinstance(step.error, SchemaError)
    message = str(step.error)
    assert "new column cost DOUBLE" in message
    assert "column missing from the data: price DOUBLE" in message
    assert step.rows_read == 0
    assert table_rows(project, "SELECT id, price FROM items") == [(1, 2.5)]


def test_by_default_a_changed_schema_evolves_the_table(
    project: Path, write_pipeline: WritePipeline, run_pipeline: RunPipeline
) -> None:
    data = project / "data.csv"
    data.write_text("id,price\n1,2.5\n")
    path = write_pipeline(
        """
        pipeline: evolving
        sources:
          items: {type: csv, path: data.csv}
        """
    )
    run_pipeline(path)
    data.write_text("id,cost\n2,3.5\n")
    (step,) = run_pipeline(path).steps
    assert step.status is StepStatus.SUCCEEDED
    assert step.schema_notes == ("cost: new column, added as DOUBLE",)
    rows = table_rows(project, "SELECT id, price, cost FROM items ORDER BY id")
    assert rows == [(1, 2.5, None), (2, None, 3.5)]


def test_widening_into_the_table_type_is_accepted(
    project: Path, write_pipeline: WritePipeline, run_pipeline: RunPipeline
) -> None:
    data = project / "data.csv"
    data.write_text("id,amount\n1,2.5\n")
    path = write_pipeline(
        """
        pipeline: widen
        sources:
          items: {type: csv, path: data.csv}
        """
    )
    run_pipeline(path)
    data.write_text("id,amount\n2,3\n")  # BIGINT this time; fits the DOUBLE column
    assert run_pipeline(path).status is RunStatus.SUCCEEDED
    assert table_rows(project, "SELECT id, amount FROM items ORDER BY id") == [(1, 2.5), (2, 3.0)]


def test_narrowing_into_the_table_type_is_refused_when_frozen(
    project: Path, write_pipeline: WritePipeline, run_pipeline: RunPipeline
) -> None:
    data = project / "data.csv"
    data.write_text("id,amount\n1,2\n")
    path = write_pipeline(
        """
        pipeline: narrow
        sources:
          items: {type: csv, path: data.csv, schema: {policy: freeze}}
        """
    )
    run_pipeline(path)
    data.write_text("id,amount\n2,3.5\n")
    (step,) = run_pipeline(path).steps
    assert isinstance(step.error, SchemaError)
    assert "amount: DOUBLE would widen the table's BIGINT" in str(step.error)


def test_selecting_sources(
    project: Path, write_pipeline: WritePipeline, run_pipeline: RunPipeline
) -> None:
    FAKE_ROWS["s1"] = [{"x": 1}]
    FAKE_ROWS["s2"] = [{"x": 2}]
    path = write_pipeline(
        """
        pipeline: sel
        sources:
          one: {type: fake, dataset: s1}
          two: {type: fake, dataset: s2}
        """
    )
    result = run_pipeline(path, select=["two"])
    assert [s.name for s in result.steps] == ["two"]
    with pytest.raises(ConfigError, match="no step named 'three'"):
        run_pipeline(path, select=["three"])


def test_a_warehouse_that_cannot_open_fails_the_run(
    project: Path, write_pipeline: WritePipeline, run_pipeline: RunPipeline
) -> None:
    (project / "blocker").write_text("a file, not a folder")
    FAKE_ROWS["w"] = [{"x": 1}]
    path = write_pipeline(
        """
        pipeline: nowhere
        warehouse: {type: duckdb, path: blocker/w.duckdb}
        sources:
          one: {type: fake, dataset: w}
        """
    )
    result = run_pipeline(path)
    assert result.status is RunStatus.FAILED
    assert result.steps == []
    assert result.error is not None
    assert "blocker/w.duckdb" in str(result.error)


def test_cancelling_stops_at_a_batch_boundary_and_keeps_nothing(
    project: Path, write_pipeline: WritePipeline, registry: Registry
) -> None:
    FAKE_ROWS["big"] = [{"id": i} for i in range(100)]
    path = write_pipeline(
        """
        pipeline: cancel
        defaults: {batch_size: 10}
        sources:
          big: {type: fake, dataset: big}
        """
    )
    token = CancelToken()
    bus = EventBus()

    def cancel_after_three(event: Event) -> None:
        if event.kind is EventKind.BATCH_STAGED and event.data["batch"] == 3:
            token.cancel("cancelled by the operator")

    bus.subscribe(cancel_after_three)
    result = PipelineRunner(registry.load(path), registry=registry, bus=bus, cancel=token).run()
    assert result.status is RunStatus.CANCELLED
    (step,) = result.steps
    assert step.status is StepStatus.CANCELLED
    assert step.rows_read == 30
    tables = {r[0] for r in table_rows(project, "SELECT table_name FROM information_schema.tables")}
    assert "big" not in tables
