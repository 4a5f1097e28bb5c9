"""The ``faulty`` source and ``faulty_duckdb`` warehouse in real pipeline runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sluiceway.core.errors import (
    CancelledError,
    ErrorClass,
    MalformedInputError,
    WarehouseUnavailableError,
    classify,
)
from sluiceway.core.events import EventBus
from sluiceway.core.status import RunStatus, StepStatus
from sluiceway.engine.registry import Registry
from sluiceway.engine.runner import PipelineRunner, RunResult
from sluiceway.sources.base import CancelToken
from sluiceway.testing import FaultyWarehouse, FaultyWarehouseSpec, fault_registry, faults
from sluiceway.warehouses.base import Warehouse, WarehouseContext
from tests.conftest import RunPipeline, WritePipeline
from tests.contract.warehouse_contract import WarehouseContract

pytestmark = pytest.mark.integration

PIPELINE = """
pipeline: faulty
warehouse: {type: faulty_duckdb, script: dw, endpoint: dw.example.com}
defaults: {batch_size: 4}
sources:
  orders:
    type: faulty
    rows: 10
    script: orders_api
    endpoint: api.example.com
    table: raw.orders
"""


@pytest.fixture(autouse=True)
def _fresh_faults() -> Iterator[None]:
    faults.reset()
    yield
    faults.reset()


@pytest.fixture
def registry() -> Registry:
    """Overrides the shared fixture: ``run_pipeline`` knows the faulty kinds."""
    return fault_registry()


def rows(project: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(project / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def orders(project: Path) -> list[tuple[Any, ...]]:
    return rows(project, "SELECT id, value, epoch_us(updated_at) FROM raw.orders ORDER BY id")


def loaded_once(project: Path, write_pipeline: WritePipeline, run_pipeline: RunPipeline) -> Path:
    """Run the pipeline once, successfully: ``raw.orders`` holds ten rows."""
    path = write_pipeline(PIPELINE)
    assert run_pipeline(path).status is RunStatus.SUCCEEDED
    assert len(orders(project)) == 10
    return path


def test_faulty_rows_really_land_in_duckdb(
    project: Path, write_pipeline: WritePipeline, run_pipeline: RunPipeline, registry: Registry
) -> None:
    path = write_pipeline(PIPELINE)
    spec = registry.load(path).spec
    assert spec.sources["orders"].endpoint == "api.example.com"
    assert spec.warehouse.endpoint == "dw.example.com"
    result = run_pipeline(path)
    assert result.status is RunStatus.SUCCEEDED
    (step,) = result.steps
    assert (step.rows_read, step.rows_inserted) == (10, 10)
    assert orders(project) == [
        (i, f"value-{i}", 1_704_067_200_000_000 + i * 60_000_000) for i in range(1, 11)
    ]
    api = faults.script("orders_api")
    assert api.calls == 1
    assert api.reads[0].batches == 3
    assert faults.script("dw").loads == 1
    assert faults.max_concurrent("api.example.com") == 1


def test_a_data_failure_at_batch_2_leaves_the_table_unchanged(
    project: Path, write_pipeline: WritePipeline, run_pipeline: RunPipeline
) -> None:
    path = loaded_once(project, write_pipeline, run_pipeline)
    before = orders(project)
    faults.script("orders_api").fail(error="data", at_batch=2)
    result = run_pipeline(path)
    assert result.status is RunStatus.FAILED
    (step,) = result.steps
    assert step.status is StepStatus.FAILED
    assert isinstance(step.error, MalformedInputError)
    assert "injected data failure" in str(step.error)
    assert step.rows_read == 8  # two batches of four went out before the failure
    assert orders(project) == before
    assert rows(project, "SELECT count(*) FROM _sluiceway.loads") == [(1,)]


def test_a_failure_at_commit_leaves_the_table_unchanged_and_is_transient(
    project: Path, write_pipeline: WritePipeline, run_pipeline: RunPipeline
) -> None:
    path = loaded_once(project, write_pipeline, run_pipeline)
    before = orders(project)
    # Always, not once: an engine that retries transient failures must still end up failing.
    dw = faults.script("dw").fail_warehouse_always(at="commit")
    result = run_pipeline(path)
    (step,) = result.steps
    assert step.status is StepStatus.FAILED
    assert isinstance(step.error, WarehouseUnavailableError)
    assert classify(step.error) is ErrorClass.TRANSIENT
    assert step.rows_read == 10  # every row was staged, then rolled back
    assert orders(project) == before
    assert rows(project, "SELECT count(*) FROM _sluiceway.loads") == [(1,)]
    dw.heal()
    assert run_pipeline(path).status is RunStatus.SUCCEEDED
    assert len(orders(project)) == 20  # an append: the healed warehouse takes the load


def test_a_failure_at_begin_writes_nothing_at_all(
    project: Path, write_pipeline: WritePipeline, run_pipeline: RunPipeline
) -> None:
    faults.script("dw").fail_warehouse()
    result = run_pipeline(write_pipeline(PIPELINE))
    (step,) = result.steps
    assert isinstance(step.error, WarehouseUnavailableError)
    assert "at the begin of the load into raw.orders" in str(step.error)
    assert step.rows_read == 0
    assert faults.script("orders_api").calls == 0  # the source was never pulled
    schemas = rows(project, "SELECT schema_name FROM information_schema.schemata")
    assert ("raw",) not in schemas  # not even the target's schema


def run(registry: Registry, *, cancel: CancelToken | None = None) -> RunPipeline:
    """Like the ``run_pipeline`` fixture, with a cancel token the test holds."""

    def run_once(path: Path) -> RunResult:
        runner = PipelineRunner(
            registry.load(path), registry=registry, bus=EventBus(), cancel=cancel
        )
        return runner.run()

    return run_once


def test_a_cancel_at_a_known_batch_rolls_the_step_back(
    project: Path, write_pipeline: WritePipeline, registry: Registry
) -> None:
    path = loaded_once(project, write_pipeline, run(registry))
    before = orders(project)
    cancel = CancelToken()

    def pause_after_the_second_batch(index: int) -> None:
        if index == 1:
            cancel.cancel("paused")

    faults.script("orders_api").on_batch(pause_after_the_second_batch)
    result = run(registry, cancel=cancel)(path)
    (step,) = result.steps
    assert isinstance(step.error, CancelledError)
    assert orders(project) == before
    assert faults.script("orders_api").reads[-1].batches == 2


class TestFaultyWarehouseContract(WarehouseContract):
    """Without faults, ``faulty_duckdb`` is DuckDB: it passes the whole warehouse contract."""

    @pytest.fixture
    def warehouse(self, tmp_path: Path) -> Iterator[Warehouse[Any]]:
        spec = FaultyWarehouseSpec.model_validate(
            {"type": "faulty_duckdb", "path": str(tmp_path / "w.duckdb"), "script": "contract"}
        )
        warehouse = FaultyWarehouse(spec, WarehouseContext(tmp_path, lambda p: tmp_path / p))
        warehouse.open()
        yield warehouse
        warehouse.close()
