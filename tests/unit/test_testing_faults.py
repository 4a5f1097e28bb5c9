"""Fault scripts and the ``faulty`` source, read directly (no engine, no warehouse)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from sluiceway.core.errors import (
    CancelledError,
    ErrorClass,
    MalformedInputError,
    SchemaError,
    SluicewayError,
    SourceError,
    SourceUnavailableError,
    StepTimeoutError,
    WarehouseError,
    WarehouseUnavailableError,
)
from sluiceway.sources.base import ReadContext
from sluiceway.testing import (
    FaultScript,
    FaultySource,
    FaultySourceSpec,
    FaultyWarehouseSpec,
    fault_registry,
    faults,
    faulty_rows,
)
from sluiceway.warehouses.duckdb.warehouse import DuckDBSpec
from tests.source_context import read_context

pytestmark = pytest.mark.unit

JOIN_S = 10  # how long a test waits for a reading thread before calling it stuck


@pytest.fixture(autouse=True)
def _fresh_faults() -> Iterator[None]:
    faults.reset()
    yield
    faults.reset()


def source(script: str, *, rows: int = 10, endpoint: str | None = None) -> FaultySource:
    return FaultySource(
        FaultySourceSpec.model_validate(
            {"type": "faulty", "rows": rows, "script": script, "endpoint": endpoint}
        )
    )


def context(batch_size: int = 3) -> ReadContext:
    return read_context(Path.cwd(), batch_size=batch_size)


def read(script: str, *, rows: int = 10, ctx: ReadContext | None = None) -> list[pa.RecordBatch]:
    return list(source(script, rows=rows).read(ctx or context()))


class Reading:
    """A read of a ``faulty`` source in a thread of its own; keeps what it returned or raised."""

    def __init__(self, make: Callable[[], FaultySource], ctx: ReadContext | None = None) -> None:
        self.ctx = ctx or context()
        self.rows = 0
        self.error: BaseException | None = None
        self._make = make
        self._thread = threading.Thread(target=self._run)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.rows = sum(b.num_rows for b in self._make().read(self.ctx))
        except BaseException as exc:
            self.error = exc

    def join(self) -> None:
        self._thread.join(JOIN_S)
        assert not self._thread.is_alive(), "the read is still blocked"


# -- the source on its own ----------------------------------------------------------------------


def test_rows_are_deterministic_and_come_in_batches_of_the_batch_size() -> None:
    batches = read("plain", rows=10)
    assert [b.num_rows for b in batches] == [3, 3, 3, 1]
    table = pa.Table.from_batches(batches)
    assert table.equals(faulty_rows(10))
    assert table.column("id").to_pylist() == list(range(1, 11))
    assert table.schema.field("updated_at").type == pa.timestamp("us", tz="UTC")
    assert table.slice(0, 1).to_pylist()[0]["value"] == "value-1"
    assert read("plain", rows=0) == []
    full, empty = faults.script("plain").reads
    assert (full.batches, empty.batches) == (4, 0)
    assert full.error_class is None
    assert full.finished is not None
    assert full.started <= full.finished


# -- failures --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "raised", "error_class"),
    [
        ("transient", SourceUnavailableError, ErrorClass.TRANSIENT),
        ("data", MalformedInputError, ErrorClass.DATA),
        ("schema", SchemaError, ErrorClass.SCHEMA),
        ("terminal", SourceError, ErrorClass.TERMINAL),
    ],
)
def test_each_error_kind_raises_its_class(
    kind: str, raised: type[SluicewayError], error_class: ErrorClass
) -> None:
    script = faults.script(f"kinds-{kind}")
    script.fail(error=kind)  # type: ignore[arg-type]  # every kind, from a str parameter
    with pytest.raises(raised) as caught:
        read(script.name)
    assert type(caught.value) is raised
    assert caught.value.error_class is error_class
    assert f"injected {kind} failure" in caught.value.message
    assert repr(script.name) in caught.value.message
    assert script.reads[0].error_class == error_class.value


def test_a_message_replaces_the_text_but_still_names_the_script() -> None:
    faults.script("told").fail(message="upstream said 503")
    with pytest.raises(SourceUnavailableError) as caught:
        read("told")
    assert caught.value.message.startswith("upstream said 503 (")
    assert "injected by fault script 'told'" in caught.value.message


def test_times_counts_down_and_failures_queue_up() -> None:
    script = faults.script("countdown").fail(2).fail(1, error="data")
    for expected in (SourceUnavailableError, SourceUnavailableError, MalformedInputError):
        with pytest.raises(expected):
            read("countdown")
    assert len(read("countdown")) == 4
    assert script.calls == 4
    assert [r.error_class for r in script.reads] == ["transient", "transient", "data", None]


def test_a_failure_at_a_batch_comes_after_the_batches_before_it() -> None:
    script = faults.script("midway").fail(error="data", at_batch=2)
    got: list[pa.RecordBatch] = []
    with pytest.raises(MalformedInputError, match="before batch 2"):
        got.extend(source("midway").read(context()))
    assert [b.num_rows for b in got] == [3, 3]
    assert script.reads[0].batches == 2


def test_a_failure_past_the_last_batch_happens_at_the_end() -> None:
    script = faults.script("late").fail(at_batch=99)
    got: list[pa.RecordBatch] = []
    with pytest.raises(SourceUnavailableError, match="before batch 4"):
        got.extend(source("late").read(context()))
    assert sum(b.num_rows for b in got) == 10
    assert script.reads[0].batches == 4


def test_fail_always_fails_every_read_until_healed() -> None:
    script = faults.script("down").fail_always(error="terminal")
    for _ in range(3):
        with pytest.raises(SourceError):
            read("down")
    script.heal()
    assert len(read("down")) == 4
    assert script.calls == 4


def test_heal_forgets_queued_failures_of_reads_and_loads() -> None:
    script = faults.script("healed").fail(5).fail_warehouse(5, at="commit")
    script.heal()
    assert len(read("healed")) == 4
    script.load_stage("commit", table="t")  # does not raise


def test_bad_arguments_are_refused() -> None:
    script = faults.script("strict")
    with pytest.raises(ValueError, match="times must be at least 1"):
        script.fail(0)
    with pytest.raises(ValueError, match="at_batch must be at least 0"):
        script.hold(-1)
    with pytest.raises(ValueError, match="'flaky' is not one of"):
        script.fail(error="flaky")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'end' is not one of"):
        script.fail_warehouse(at="end")  # type: ignore[arg-type]


# -- loads -----------------------------------------------------------------------------------


def test_load_failures_count_down_per_stage() -> None:
    script = faults.script("loads").fail_warehouse(2, at="commit")
    script.load_stage("begin", table="raw.t")  # a commit failure does not fire at begin
    with pytest.raises(WarehouseUnavailableError, match=r"at the commit of the load into raw\.t"):
        script.load_stage("commit", table="raw.t")
    with pytest.raises(WarehouseUnavailableError):
        script.load_stage("commit", table="raw.t")
    script.load_stage("commit", table="raw.t")
    assert script.loads == 1


def test_a_terminal_load_failure_is_not_transient() -> None:
    script = faults.script("gone").fail_warehouse_always(error="terminal")
    for _ in range(2):
        with pytest.raises(WarehouseError) as caught:
            script.load_stage("begin", table="t")
        assert not isinstance(caught.value, WarehouseUnavailableError)
        assert caught.value.error_class is ErrorClass.TERMINAL
    script.heal()
    script.load_stage("begin", table="t")
    assert script.loads == 3


def test_the_faulty_warehouse_has_every_duckdb_setting() -> None:
    assert set(DuckDBSpec.model_fields) <= set(FaultyWarehouseSpec.model_fields)
    spec = FaultyWarehouseSpec.model_validate(
        {"type": "faulty_duckdb", "path": ":memory:", "threads": 2, "endpoint": "dw"}
    )
    assert spec.script == "warehouse"
    assert spec.duckdb_spec() == DuckDBSpec.model_validate(
        {"type": "duckdb", "path": ":memory:", "threads": 2}
    )


def test_the_fault_registry_knows_the_faulty_kinds_and_the_built_in_ones() -> None:
    registry = fault_registry()
    assert {"faulty", "csv", "parquet"} <= set(registry.sources.types)
    assert {"faulty_duckdb", "duckdb", "postgres"} <= set(registry.warehouses.types)


# -- holds, overlap, cancellation ------------------------------------------------------------


def test_two_reads_held_at_once_overlap_and_go_on_when_released() -> None:
    script = faults.script("overlap").hold(at_batch=1)
    readers = [Reading(lambda: source("overlap")) for _ in range(2)]
    assert script.wait_held(2)
    assert script.held == 2
    assert script.in_flight == 2
    assert all(r.batches == 1 and r.finished is None for r in script.reads)
    script.release()
    for reader in readers:
        reader.join()
        assert (reader.rows, reader.error) == (10, None)
    assert script.max_concurrent == 2
    assert (script.in_flight, script.held) == (0, 0)
    assert len({r.thread for r in script.reads}) == 2
    assert len(read("overlap")) == 4  # released: later reads are not held


def test_wait_held_gives_up_after_its_timeout() -> None:
    assert faults.script("idle").hold().wait_held(1, timeout=0.05) is False


def test_reads_one_after_another_never_overlap() -> None:
    script = faults.script("serial")
    read("serial")
    read("serial")
    assert script.max_concurrent == 1


def test_a_held_read_notices_cancellation() -> None:
    script = faults.script("stuck").hold()
    reader = Reading(lambda: source("stuck"))
    assert script.wait_held()
    reader.ctx.cancel.cancel("timed out")
    reader.join()
    assert isinstance(reader.error, CancelledError)
    assert str(reader.error) == "run timed out"
    (record,) = script.reads
    assert (record.batches, record.error_class) == (0, "terminal")
    assert script.held == 0


def test_a_held_read_stops_when_its_step_times_out() -> None:
    script = faults.script("slow").hold()
    reader = Reading(lambda: source("slow"))
    assert script.wait_held()
    reader.ctx.cancel.expire(StepTimeoutError("step orders ran past its timeout of 1s"))
    reader.join()
    assert isinstance(reader.error, StepTimeoutError)
    assert script.reads[0].error_class == "transient"


def test_a_release_gets_through_a_paused_run_which_then_holds_still() -> None:
    script = faults.script("paused").hold()
    first_batch = threading.Event()
    script.on_batch(lambda index: first_batch.set())
    reader = Reading(lambda: source("paused"))
    assert script.wait_held()
    reader.ctx.cancel.pause()
    script.release()
    assert first_batch.wait(JOIN_S)  # past the hold although paused
    reader.ctx.cancel.resume()  # the batch boundary check waited for this
    reader.join()
    assert (reader.rows, reader.error) == (10, None)


def test_reset_releases_every_hold() -> None:
    script = faults.script("frozen").hold(at_batch=2)
    reader = Reading(lambda: source("frozen"))
    assert script.wait_held()
    faults.reset()
    reader.join()
    assert (reader.rows, reader.error) == (10, None)
    assert faults.names == []
    assert faults.script("frozen") is not script


def test_concurrency_per_endpoint_counts_every_script_on_it() -> None:
    api_a = faults.script("api-a").hold()
    api_b = faults.script("api-b").hold()
    faults.script("elsewhere").hold()
    readers = [
        Reading(lambda: source("api-a", endpoint="api.example.com")),
        Reading(lambda: source("api-b", endpoint="api.example.com")),
        Reading(lambda: source("elsewhere", endpoint="db.example.com")),
    ]
    assert api_a.wait_held()
    assert api_b.wait_held()
    assert faults.script("elsewhere").wait_held()
    assert faults.in_flight("api.example.com") == 2
    assert faults.in_flight("db.example.com") == 1
    for name in ("api-a", "api-b", "elsewhere"):
        faults.script(name).release()
    for reader in readers:
        reader.join()
    assert faults.in_flight("api.example.com") == 0
    assert faults.max_concurrent("api.example.com") == 2
    assert faults.max_concurrent("db.example.com") == 1
    assert faults.max_concurrent("nowhere") == 0
    assert api_a.max_concurrent == api_b.max_concurrent == 1
    assert api_a.reads[0].endpoint == "api.example.com"


def test_on_batch_is_called_after_each_batch_and_can_cancel_the_read() -> None:
    ctx = context()
    seen: list[int] = []

    def after(index: int) -> None:
        seen.append(index)
        if index == 1:
            ctx.cancel.cancel("paused")

    faults.script("steps").on_batch(after)
    got: list[pa.RecordBatch] = []
    with pytest.raises(CancelledError, match="run paused"):
        got.extend(source("steps").read(ctx))
    assert seen == [0, 1]
    assert len(got) == 2
    faults.script("steps").on_batch(None)
    assert len(read("steps")) == 4
    assert seen == [0, 1]


def test_scripts_chain_and_are_shared_by_name() -> None:
    script = faults.script("shared")
    assert script.fail().hold().release().on_batch(None).heal() is script
    assert faults.script("shared") is script
    assert isinstance(FaultScript("standalone").fail(), FaultScript)
    assert faults.names == ["shared"]
