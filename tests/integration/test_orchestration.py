"""The DAG executor under failure, with the fault-injection fakes: parallelism and limits,
retries with backoff (an injected sleep, no real waits), circuit breakers across runs,
skip and blocked propagation, timeouts, pause/resume/cancel at batch boundaries, restart."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sluiceway.core.errors import CircuitOpenError, ErrorClass, StepTimeoutError, classify
from sluiceway.core.events import EventBus, EventKind
from sluiceway.core.status import RunStatus, StepStatus
from sluiceway.engine.breakers import CircuitBreakers
from sluiceway.engine.control import RunControlWatcher
from sluiceway.engine.registry import Registry
from sluiceway.engine.runner import PipelineRunner, RunResult
from sluiceway.meta import control
from sluiceway.meta.control import MetaBreakerStore
from sluiceway.meta.store import MetaStore
from sluiceway.observe.meta_recorder import MetaRecorder
from sluiceway.spec.execution import BreakerSpec
from sluiceway.testing import fault_registry, faults
from tests.conftest import Recorder, WritePipeline

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _fresh_faults() -> Iterator[None]:
    faults.reset()
    yield
    faults.reset()


@pytest.fixture
def registry() -> Registry:
    return fault_registry()


class Clock:
    """Wall time the breakers read, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(project: Path) -> Iterator[MetaStore]:
    with MetaStore.for_state_dir(project / ".sluiceway") as opened:
        yield opened


def run(
    path: Path,
    registry: Registry,
    *,
    store: MetaStore | None = None,
    clock: Clock | None = None,
    sleeps: list[float] | None = None,
    recorder: Recorder | None = None,
    runner_hook: Any = None,
    watch: bool = False,
    sleep: Any = None,
) -> RunResult:
    pipeline = registry.load(path)
    bus = EventBus()
    if recorder is not None:
        bus.subscribe(recorder)
    breakers = None
    if store is not None:
        bus.subscribe(MetaRecorder(store))
        breakers = CircuitBreakers(
            MetaBreakerStore(store), pipeline.spec.execution.breaker, clock=clock or Clock()
        )
    waits = sleeps if sleeps is not None else []
    runner = PipelineRunner(
        pipeline,
        registry=registry,
        bus=bus,
        sleep=sleep or waits.append,
        breakers=breakers,
        rng=random.Random(7),
    )
    if runner_hook is not None:
        runner_hook(runner)
    if not watch:
        return runner.run()
    assert store is not None
    watcher = RunControlWatcher(
        store,
        run_id=runner.run_id,
        pipeline=pipeline.name,
        token=runner.cancel,
        bus=bus,
        poll_s=0.02,
    )
    with watcher:  # commands come through the store, as from another terminal
        return runner.run()


def table_rows(project: Path, table: str) -> int:
    with duckdb.connect(str(project / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        found = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert found is not None
    return int(found[0])


def statuses(result: RunResult) -> dict[str, StepStatus]:
    return {s.name: s.status for s in result.steps}


# -- parallelism and limits ------------------------------------------------------------------


def test_independent_steps_overlap_in_time(
    project: Path, write_pipeline: WritePipeline, registry: Registry
) -> None:
    path = write_pipeline(
        """
        pipeline: par
        execution: {max_workers: 2}
        sources:
          a: {type: faulty, rows: 10, script: shared}
          b: {type: faulty, rows: 10, script: shared}
        """
    )
    faults.script("shared").hold()
    done: list[RunResult] = []
    worker = threading.Thread(target=lambda: done.append(run(path, registry)))
    worker.start()
    both_held = faults.script("shared").wait_held(2, timeout=20)
    faults.script("shared").release()
    worker.join(30)
    assert both_held  # both steps were inside their reads at the same moment
    assert faults.script("shared").max_concurrent == 2
    assert done[0].status is RunStatus.SUCCEEDED
    assert table_rows(project, "a") == table_rows(project, "b") == 10


def test_a_resource_limit_caps_steps_at_once(
    project: Path, write_pipeline: WritePipeline, registry: Registry
) -> None:
    path = write_pipeline(
        """
        pipeline: limits
        execution: {max_workers: 4, limits: {api.example.com: 2}}
        sources:
          a: {type: faulty, rows: 5, script: api, endpoint: api.example.com}
          b: {type: faulty, rows: 5, script: api, endpoint: api.example.com}
          c: {type: faulty, rows: 5, script: api, endpoint: api.example.com}
          d: {type: faulty, rows: 5, script: other}
        """
    )
    faults.script("api").hold()
    faults.script("other").hold()
    done: list[RunResult] = []
    worker = threading.Thread(target=lambda: done.append(run(path, registry)))
    worker.start()
    two_in = faults.script("api").wait_held(2, timeout=20)
    other_in = faults.script("other").wait_held(1, timeout=20)  # d is not held back by the limit
    held_with_limit = faults.script("api").held
    faults.script("other").release()
    faults.script("api").release()
    worker.join(30)
    assert two_in
    assert other_in
    assert held_with_limit == 2
    assert faults.max_concurrent("api.example.com") == 2
    assert faults.script("api").calls == 3
    assert done[0].status is RunStatus.SUCCEEDED


def test_one_worker_runs_steps_one_after_another_in_dag_order(
    project: Path, write_pipeline: WritePipeline, registry: Registry
) -> None:
    path = write_pipeline(
        """
        pipeline: serial
        execution: {max_workers: 1}
        sources:
          child: {type: faulty, rows: 3, script: s, references: [parent]}
          parent: {type: faulty, rows: 3, script: s}
        """
    )
    result = run(path, registry)
    assert [s.name for s in result.steps] == ["parent", "child"]
    assert faults.script("s").max_concurrent == 1
    reads = faults.script("s").reads
    assert reads[0].finished is not None
    assert reads[0].finished <= reads[1].started


# -- failures: skip propagation, retries ----------------------------------------------------


def test_a_failed_step_skips_what_needs_it_and_independent_branches_finish(
    project: Path, write_pipeline: WritePipeline, registry: Registry, store: MetaStore
) -> None:
    path = write_pipeline(
        """
        pipeline: skips
        defaults: {batch_size: 2}
        sources:
          customers: {type: faulty, rows: 6, script: customers}
          orders: {type: faulty, rows: 6, script: orders, references: [customers]}
          items: {type: faulty, rows: 6, script: items, depends_on: [orders]}
          products: {type: faulty, rows: 6, script: products}
        """
    )
    faults.script("customers").fail(error="data", at_batch=2)
    result = run(path, registry, store=store)
    assert statuses(result) == {
        "customers": StepStatus.FAILED,
        "products": StepStatus.SUCCEEDED,
        "orders": StepStatus.SKIPPED,
        "items": StepStatus.SKIPPED,
    }
    assert result.status is RunStatus.FAILED
    assert faults.script("orders").calls == 0
    assert faults.script("items").calls == 0
    assert table_rows(project, "products") == 6
    with pytest.raises(duckdb.CatalogException):
        table_rows(project, "customers")  # its load rolled back: no table
    recorded = {s.step: s for s in store.list_steps(result.run_id)}
    assert recorded["orders"].status is StepStatus.SKIPPED
    assert recorded["orders"].details["reason"] == "skipped: customers, which it needs, failed"
    assert recorded["items"].details["reason"] == "skipped: orders, which it needs, skipped"
    assert recorded["customers"].error_class is ErrorClass.DATA


def test_transient_failures_are_retried_with_capped_jittered_backoff(
    project: Path, write_pipeline: WritePipeline, registry: Registry, store: MetaStore
) -> None:
    path = write_pipeline(
        """
        pipeline: retries
        execution:
          retry: {attempts: 4, base_delay: 2s, max_delay: 3s}
          breaker: {failures: 10}
        sources:
          api: {type: faulty, rows: 8, script: api, endpoint: api.example.com}
        """
    )
    faults.script("api").fail(3, error="transient", at_batch=0)
    recorder = Recorder()
    sleeps: list[float] = []
    result = run(path, registry, store=store, sleeps=sleeps, recorder=recorder)
    step = result.steps[0]
    assert step.status is StepStatus.SUCCEEDED
    assert step.attempts == 4
    assert len(sleeps) == 3
    for retry, delay in enumerate(sleeps):  # full jitter under min(max_delay, base * 2^n)
        assert 0 <= delay <= min(3.0, 2.0 * 2**retry)
    retrying = [e for e in recorder.events if e.kind is EventKind.STEP_RETRYING]
    assert [e.data["attempt"] for e in retrying] == [1, 2, 3]
    assert [e.data["delay_s"] for e in retrying] == [round(d, 3) for d in sleeps]
    assert table_rows(project, "api") == 8  # loaded once
    attempts = [(s.attempt, s.status) for s in store.list_steps(result.run_id)]
    assert attempts == [
        (1, StepStatus.FAILED),
        (2, StepStatus.FAILED),
        (3, StepStatus.FAILED),
        (4, StepStatus.SUCCEEDED),
    ]


@pytest.mark.parametrize("kind", ["data", "schema", "terminal"])
def test_only_transient_errors_are_retried(
    project: Path, write_pipeline: WritePipeline, registry: Registry, kind: str
) -> None:
    path = write_pipeline(
        """
        pipeline: noretry
        execution: {retry: {attempts: 5}}
        sources:
          api: {type: faulty, rows: 8, script: api}
        """
    )
    faults.script("api").fail(1, error=kind)  # type: ignore[arg-type]
    sleeps: list[float] = []
    result = run(path, registry, sleeps=sleeps)
    assert result.steps[0].status is StepStatus.FAILED
    assert result.steps[0].attempts == 1
    assert sleeps == []
    assert faults.script("api").calls == 1


def test_a_source_retry_overrides_the_pipeline_retry(
    project: Path, write_pipeline: WritePipeline, registry: Registry
) -> None:
    path = write_pipeline(
        """
        pipeline: override
        execution: {retry: {attempts: 5}, breaker: {failures: 10}}
        sources:
          api: {type: faulty, rows: 8, script: api, retry: {attempts: 2}}
        """
    )
    faults.script("api").fail_always(error="transient")
    sleeps: list[float] = []
    result = run(path, registry, sleeps=sleeps)
    assert result.steps[0].attempts == 2
    assert len(sleeps) == 1


# -- circuit breakers ------------------------------------------------------------------------

BREAKER_PIPELINE = """
pipeline: breaker
execution:
  max_workers: 1
  retry: {attempts: 10, base_delay: 1s}
  breaker: {failures: 3, cooldown: 5m}
sources:
  orders: {type: faulty, rows: 4, script: orders, endpoint: api.example.com}
  refunds: {type: faulty, rows: 4, script: refunds, endpoint: api.example.com}
  summary: {type: faulty, rows: 4, script: summary, depends_on: [refunds]}
  local: {type: faulty, rows: 4, script: local}
"""


def test_an_endpoint_that_keeps_failing_opens_its_breaker_without_a_retry_storm(
    project: Path, write_pipeline: WritePipeline, registry: Registry, store: MetaStore
) -> None:
    path = write_pipeline(BREAKER_PIPELINE)
    faults.script("orders").fail_always(error="transient")
    faults.script("refunds").fail_always(error="transient")
    recorder = Recorder()
    sleeps: list[float] = []
    result = run(path, registry, store=store, sleeps=sleeps, recorder=recorder)

    assert statuses(result) == {
        "orders": StepStatus.FAILED,
        "refunds": StepStatus.BLOCKED,
        "summary": StepStatus.SKIPPED,
        "local": StepStatus.SUCCEEDED,
    }
    # Three tries open the breaker (not ten); the blocked step never touched the endpoint.
    assert faults.script("orders").calls == 3
    assert result.steps[0].attempts == 3
    assert len(sleeps) == 2
    assert faults.script("refunds").calls == 0
    blocked = next(s for s in result.steps if s.name == "refunds")
    assert isinstance(blocked.error, CircuitOpenError)
    assert blocked.error.endpoint == "api.example.com"
    opened = [e for e in recorder.events if e.kind is EventKind.CIRCUIT_OPENED]
    assert len(opened) == 1  # one alert, not one per attempt or per blocked step
    assert opened[0].data["endpoint"] == "api.example.com"
    assert MetaBreakerStore(store).get("api.example.com").state == "open"
    assert {s.step: s.status for s in store.list_steps(result.run_id) if s.attempt == 1} == {
        "orders": StepStatus.FAILED,
        "refunds": StepStatus.BLOCKED,
        "summary": StepStatus.SKIPPED,
        "local": StepStatus.SUCCEEDED,
    }


def test_the_breaker_persists_across_runs_and_half_opens_after_its_cooldown(
    project: Path, write_pipeline: WritePipeline, registry: Registry, store: MetaStore
) -> None:
    path = write_pipeline(BREAKER_PIPELINE)
    clock = Clock()
    faults.script("orders").fail_always(error="transient")
    run(path, registry, store=store, clock=clock)
    assert MetaBreakerStore(store).get("api.example.com").state == "open"

    # A later run, before the cooldown: nothing on the endpoint is tried, no new alert.
    clock.now += timedelta(minutes=4)
    recorder = Recorder()
    second = run(path, registry, store=store, clock=clock, recorder=recorder)
    assert statuses(second)["orders"] is StepStatus.BLOCKED
    assert statuses(second)["refunds"] is StepStatus.BLOCKED
    assert faults.script("orders").calls == 3
    assert not [e for e in recorder.events if e.kind is EventKind.CIRCUIT_OPENED]

    # After the cooldown one step tries (half-open); it still fails: open again, no retries.
    clock.now += timedelta(minutes=2)
    recorder = Recorder()
    third = run(path, registry, store=store, clock=clock, recorder=recorder)
    assert faults.script("orders").calls == 4
    assert third.steps[0].attempts == 1
    assert statuses(third)["refunds"] is StepStatus.BLOCKED
    assert len([e for e in recorder.events if e.kind is EventKind.CIRCUIT_OPENED]) == 1
    assert MetaBreakerStore(store).get("api.example.com").opened_at == clock.now

    # The endpoint is back: the trial succeeds, the breaker closes, everything runs.
    faults.script("orders").heal()
    faults.script("refunds").heal()
    clock.now += timedelta(minutes=6)
    recorder = Recorder()
    fourth = run(path, registry, store=store, clock=clock, recorder=recorder)
    assert fourth.status is RunStatus.SUCCEEDED
    assert [e.data["endpoint"] for e in recorder.events if e.kind is EventKind.CIRCUIT_CLOSED] == [
        "api.example.com"
    ]
    record = MetaBreakerStore(store).get("api.example.com")
    assert (record.state, record.failures) == ("closed", 0)


def test_a_success_resets_the_count_of_failures_in_a_row(
    project: Path, write_pipeline: WritePipeline, registry: Registry, store: MetaStore
) -> None:
    path = write_pipeline(BREAKER_PIPELINE)
    faults.script("orders").fail(2, error="transient")
    result = run(path, registry, store=store)
    assert result.status is RunStatus.SUCCEEDED
    assert result.steps[0].attempts == 3
    record = MetaBreakerStore(store).get("api.example.com")
    assert (record.state, record.failures) == ("closed", 0)


def test_a_warehouse_failure_counts_against_the_warehouse_endpoint(
    project: Path, write_pipeline: WritePipeline, registry: Registry, store: MetaStore
) -> None:
    path = write_pipeline(
        """
        pipeline: wh
        warehouse: {type: faulty_duckdb, script: dw, endpoint: dw.example.com}
        execution: {max_workers: 1, retry: {attempts: 5}, breaker: {failures: 2}}
        sources:
          a: {type: faulty, rows: 4, script: a}
          b: {type: faulty, rows: 4, script: b}
        """
    )
    faults.script("dw").fail_warehouse_always(at="commit")
    result = run(path, registry, store=store)
    assert statuses(result) == {"a": StepStatus.FAILED, "b": StepStatus.BLOCKED}
    assert result.steps[0].attempts == 2
    assert MetaBreakerStore(store).get("dw.example.com").state == "open"


def test_a_breaker_opened_elsewhere_during_the_backoff_stops_the_retries(
    project: Path, write_pipeline: WritePipeline, registry: Registry, store: MetaStore
) -> None:
    path = write_pipeline(BREAKER_PIPELINE)
    faults.script("orders").fail_always(error="transient")
    board = CircuitBreakers(MetaBreakerStore(store), BreakerSpec(failures=1))

    def another_process_gives_up(delay: float) -> None:
        board.failed("api.example.com", RuntimeError("refused"), "another-run")

    recorder = Recorder()
    bus_errors: list[Any] = []
    result = run(
        path,
        registry,
        store=store,
        recorder=recorder,
        sleep=another_process_gives_up,
        runner_hook=lambda runner: bus_errors.append(runner.bus.errors),
    )
    orders = result.steps[0]
    assert (orders.name, orders.status, orders.attempts) == ("orders", StepStatus.FAILED, 1)
    assert faults.script("orders").calls == 1
    finished = [e for e in recorder.events if e.kind is EventKind.STEP_FINISHED]
    assert [e.step for e in finished].count("orders") == 1
    assert bus_errors[0] == []  # the metadata store took every event
    assert statuses(result)["refunds"] is StepStatus.BLOCKED


def test_a_trial_that_reaches_the_endpoint_closes_the_breaker_even_if_the_rows_are_bad(
    project: Path, write_pipeline: WritePipeline, registry: Registry, store: MetaStore
) -> None:
    path = write_pipeline(BREAKER_PIPELINE)
    clock = Clock()
    faults.script("orders").fail(3, error="transient")
    run(path, registry, store=store, clock=clock)
    assert MetaBreakerStore(store).get("api.example.com").state == "open"
    faults.script("orders").fail(1, error="data", at_batch=0)
    clock.now += timedelta(minutes=6)
    result = run(path, registry, store=store, clock=clock)
    assert statuses(result)["orders"] is StepStatus.FAILED
    assert classify(result.steps[0].error or RuntimeError()) is ErrorClass.DATA
    assert MetaBreakerStore(store).get("api.example.com").state == "closed"
    assert statuses(result)["refunds"] is StepStatus.SUCCEEDED


# -- timeouts ----------------------------------------------------------------------------------


def test_a_step_past_its_timeout_fails_and_rolls_back(
    project: Path, write_pipeline: WritePipeline, registry: Registry
) -> None:
    path = write_pipeline(
        """
        pipeline: slow
        defaults: {batch_size: 2}
        sources:
          slow: {type: faulty, rows: 10, script: slow, timeout: 200ms}
          fast: {type: faulty, rows: 10, script: fast}
        """
    )
    faults.script("slow").hold(at_batch=2)  # never released: only the timeout ends it
    result = run(path, registry)
    slow = next(s for s in result.steps if s.name == "slow")
    assert slow.status is StepStatus.FAILED
    assert isinstance(slow.error, StepTimeoutError)
    assert classify(slow.error) is ErrorClass.TRANSIENT
    assert "timeout of 200ms" in slow.error.message
    assert statuses(result)["fast"] is StepStatus.SUCCEEDED
    with pytest.raises(duckdb.CatalogException):
        table_rows(project, "slow")


# -- run control -----------------------------------------------------------------------------

CONTROL_PIPELINE = """
pipeline: control
defaults: {batch_size: 10}
execution: {max_workers: 1}
sources:
  first: {type: faulty, rows: 100, script: first}
  second: {type: faulty, rows: 30, script: second}
"""


class Controlled:
    """A run in a thread, steered through the metadata store as another terminal would."""

    def __init__(self, path: Path, registry: Registry, store: MetaStore) -> None:
        self.store = store
        self.result: list[RunResult] = []
        self.errors: list[BaseException] = []
        self.runner: PipelineRunner | None = None
        self.ready = threading.Event()

        def hook(runner: PipelineRunner) -> None:
            self.runner = runner
            self.ready.set()

        def work() -> None:
            try:
                self.result.append(run(path, registry, store=store, runner_hook=hook, watch=True))
            except BaseException as exc:
                self.errors.append(exc)

        self.thread = threading.Thread(target=work)


def wait_until(condition: Any, timeout: float = 20) -> bool:
    done = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if condition():
            return True
        done.wait(0.02)
    return bool(condition())


def test_pause_holds_a_step_between_batches_and_resume_finishes_it(
    project: Path, write_pipeline: WritePipeline, registry: Registry, store: MetaStore
) -> None:
    path = write_pipeline(CONTROL_PIPELINE)
    controlled = Controlled(path, registry, store)
    asked = threading.Event()

    def at_batch(index: int) -> None:
        if index == 3 and not asked.is_set():
            runner = controlled.runner
            assert runner is not None
            control.request(store, runner.run_id, "pause")
            assert wait_until(lambda: runner.cancel.paused)  # the watcher applied it
            asked.set()

    faults.script("first").on_batch(at_batch)
    controlled.thread.start()
    assert controlled.ready.wait(20)
    assert controlled.runner is not None
    run_id = controlled.runner.run_id
    assert asked.wait(20)
    assert wait_until(lambda: store.get_run(run_id).status is RunStatus.PAUSED)
    held_at = faults.script("first").reads[0].batches
    assert not wait_until(lambda: faults.script("first").reads[0].batches > held_at, timeout=0.5)
    assert faults.script("second").calls == 0  # nothing new starts while paused

    control.request(store, run_id, "resume")
    controlled.thread.join(30)
    assert not controlled.errors
    result = controlled.result[0]
    assert result.status is RunStatus.SUCCEEDED
    assert held_at == 4  # held right after the batch during which it was asked
    assert table_rows(project, "first") == 100  # every row once: nothing redone, nothing lost
    assert table_rows(project, "second") == 30
    assert faults.script("first").calls == 1
    assert store.get_run(run_id).status is RunStatus.SUCCEEDED


def test_cancel_rolls_back_the_running_step_and_keeps_committed_ones(
    project: Path, write_pipeline: WritePipeline, registry: Registry, store: MetaStore
) -> None:
    path = write_pipeline(
        """
        pipeline: control
        defaults: {batch_size: 10}
        execution: {max_workers: 1}
        sources:
          done: {type: faulty, rows: 20, script: done}
          first: {type: faulty, rows: 100, script: first}
          second: {type: faulty, rows: 30, script: second}
        """
    )
    controlled = Controlled(path, registry, store)

    def at_batch(index: int) -> None:
        if index == 3:
            assert controlled.runner is not None
            control.request(store, controlled.runner.run_id, "cancel")
            runner = controlled.runner
            assert wait_until(lambda: runner.cancel.cancelled)

    faults.script("first").on_batch(at_batch)
    controlled.thread.start()
    controlled.thread.join(30)
    assert not controlled.errors
    result = controlled.result[0]
    assert result.status is RunStatus.CANCELLED
    assert statuses(result) == {
        "done": StepStatus.SUCCEEDED,
        "first": StepStatus.CANCELLED,
        "second": StepStatus.CANCELLED,
    }
    assert table_rows(project, "done") == 20
    with pytest.raises(duckdb.CatalogException):
        table_rows(project, "first")
    assert faults.script("second").calls == 0
    assert store.get_run(result.run_id).status is RunStatus.CANCELLED


def test_a_paused_run_can_be_cancelled(
    project: Path, write_pipeline: WritePipeline, registry: Registry, store: MetaStore
) -> None:
    path = write_pipeline(CONTROL_PIPELINE)
    controlled = Controlled(path, registry, store)
    asked = threading.Event()

    def at_batch(index: int) -> None:
        if index == 1:
            assert controlled.runner is not None
            control.request(store, controlled.runner.run_id, "pause")
            asked.set()

    faults.script("first").on_batch(at_batch)
    controlled.thread.start()
    assert asked.wait(20)
    assert controlled.runner is not None
    run_id = controlled.runner.run_id
    assert wait_until(lambda: store.get_run(run_id).status is RunStatus.PAUSED)
    control.request(store, run_id, "cancel")
    controlled.thread.join(30)
    assert controlled.result[0].status is RunStatus.CANCELLED
    with pytest.raises(duckdb.CatalogException):
        table_rows(project, "first")


def test_commands_to_a_finished_run_are_refused(
    project: Path, write_pipeline: WritePipeline, registry: Registry, store: MetaStore
) -> None:
    path = write_pipeline(CONTROL_PIPELINE)
    result = run(path, registry, store=store)
    with pytest.raises(Exception, match="already finished") as raised:
        control.request(store, result.run_id, "pause")
    assert "restart" in str(raised.value)
