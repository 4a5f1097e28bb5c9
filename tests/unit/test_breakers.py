"""Circuit breaker transitions, in memory and in the metadata store (shared by processes)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sluiceway.core.errors import (
    DataError,
    SourceUnavailableError,
    StepTimeoutError,
    WarehouseUnavailableError,
)
from sluiceway.engine.breakers import (
    BreakerStore,
    CircuitBreakers,
    InMemoryBreakerStore,
    blamed_endpoint,
)
from sluiceway.meta.control import MetaBreakerStore
from sluiceway.meta.store import MetaStore
from sluiceway.spec.execution import BreakerSpec

START = datetime(2026, 3, 1, 12, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["memory", "meta"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BreakerStore]:
    if request.param == "memory":
        yield InMemoryBreakerStore()
        return
    with MetaStore.for_state_dir(tmp_path) as meta:
        yield MetaBreakerStore(meta)


def breakers(store: BreakerStore, clock: Clock) -> CircuitBreakers:
    spec = BreakerSpec(failures=3, cooldown=timedelta(minutes=5))
    return CircuitBreakers(store, spec, clock=clock)


ERROR = SourceUnavailableError("connection refused")


def test_closed_then_open_after_n_failures_in_a_row(store: BreakerStore) -> None:
    clock = Clock()
    board = breakers(store, clock)
    assert board.failed("db", ERROR, "r1") is None
    assert board.failed("db", ERROR, "r1") is None
    assert board.admit("db", "r1").allowed
    opened = board.failed("db", ERROR, "r1")
    assert opened is not None
    assert (opened.state, opened.failures, opened.opened_at) == ("open", 3, START)
    assert opened.last_error == "connection refused"
    admission = board.admit("db", "r2")
    assert not admission.allowed
    assert (
        "open since 2026-03-01 12:00:00 UTC after 3 failure(s)"
        in admission.error(board.spec.cooldown).message
    )
    # More failures while open (steps that started before it opened) raise no second alert.
    assert board.failed("db", ERROR, "r1") is None


def test_a_success_resets_the_count(store: BreakerStore) -> None:
    board = breakers(store, Clock())
    board.failed("db", ERROR, "r1")
    board.failed("db", ERROR, "r1")
    assert board.succeeded("db", "r1") is False  # it was closed: nothing reopened
    assert board.failed("db", ERROR, "r1") is None
    assert store.get("db").failures == 1


def test_half_open_after_cooldown_admits_one_trial(store: BreakerStore) -> None:
    clock = Clock()
    board = breakers(store, clock)
    for _ in range(3):
        board.failed("db", ERROR, "r1")
    clock.now += timedelta(minutes=4, seconds=59)
    assert not board.admit("db", "r2").allowed
    clock.now += timedelta(seconds=1)
    first = board.admit("db", "r2")
    second = board.admit("db", "r3")
    assert (first.allowed, first.trial) == (True, True)
    assert (second.allowed, second.trial) == (False, False)
    assert store.get("db").state == "half_open"
    # The trial succeeds: closed, count reset, everyone admitted.
    assert board.succeeded("db", "r2") is True
    assert store.get("db").state == "closed"
    assert store.get("db").failures == 0
    assert board.admit("db", "r3").allowed


def test_a_failed_trial_opens_it_again_for_another_cooldown(store: BreakerStore) -> None:
    clock = Clock()
    board = breakers(store, clock)
    for _ in range(3):
        board.failed("db", ERROR, "r1")
    clock.now += timedelta(minutes=5)
    assert board.admit("db", "r2").trial
    reopened = board.failed("db", ERROR, "r2")
    assert reopened is not None
    assert reopened.opened_at == clock.now
    clock.now += timedelta(minutes=4)
    assert not board.admit("db", "r3").allowed


def test_a_trial_that_never_reports_is_given_up_after_a_cooldown(store: BreakerStore) -> None:
    clock = Clock()
    board = breakers(store, clock)
    for _ in range(3):
        board.failed("db", ERROR, "r1")
    clock.now += timedelta(minutes=5)
    assert board.admit("db", "dead-process").trial
    clock.now += timedelta(minutes=5)
    assert board.admit("db", "r4").trial


def test_endpoints_are_independent(store: BreakerStore) -> None:
    board = breakers(store, Clock())
    for _ in range(3):
        board.failed("db", ERROR, "r1")
    assert not board.admit("db", "r1").allowed
    assert board.admit("api", "r1").allowed


def test_which_endpoint_a_failure_blames() -> None:
    assert blamed_endpoint(ERROR, source="api", warehouse="dw") == "api"
    lost = WarehouseUnavailableError("connection lost")
    assert blamed_endpoint(lost, source="api", warehouse="dw") == "dw"
    assert blamed_endpoint(DataError("bad row"), source="api", warehouse="dw") is None
    assert blamed_endpoint(StepTimeoutError("slow"), source="api", warehouse="dw") is None


def _fail_many(state_dir: str, count: int) -> None:
    with MetaStore.for_state_dir(Path(state_dir)) as meta:
        board = CircuitBreakers(MetaBreakerStore(meta), BreakerSpec(failures=1000))
        for _ in range(count):
            board.failed("db", ERROR, "proc")


def test_processes_sharing_a_store_lose_no_failure(tmp_path: Path) -> None:
    MetaStore.for_state_dir(tmp_path).close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_fail_many, args=(str(tmp_path), 25)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    with MetaStore.for_state_dir(tmp_path) as meta:
        assert MetaBreakerStore(meta).get("db").failures == 75
