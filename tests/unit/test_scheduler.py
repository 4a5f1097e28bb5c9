"""The scheduler: triggers (cron, presets, DST, intervals), catch-up, concurrency, failures and
restarts, on a hand-moved clock and a real SQLite metadata store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sluiceway.meta.schedules import (
    ScheduleState,
    list_schedule_states,
    load_schedule_state,
    save_schedule_state,
)
from sluiceway.meta.store import MetaStore
from sluiceway.scheduler import (
    Action,
    ActionKind,
    CronTrigger,
    IntervalTrigger,
    ManualClock,
    ScheduleEntry,
    Scheduler,
)
from sluiceway.spec.schedule import ScheduleSpec

pytestmark = pytest.mark.unit

T0 = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")
WAIT_S = 10.0  # how long a test waits for a worker thread before failing; never a sleep

MINUTE = timedelta(minutes=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A wall-clock time in New York, as a UTC instant (the first, if it happens twice)."""
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetaStore]:
    with MetaStore.for_state_dir(tmp_path / "state") as opened:
        yield opened


class Launcher:
    """Records each launch; can hold launches open, or fail some."""

    def __init__(self, *, hold: bool = False, fail: set[int] | None = None) -> None:
        self.calls: list[tuple[str, datetime]] = []
        self.hold = hold
        self.fail = fail or set()
        self.release = threading.Event()
        self.entered: list[threading.Event] = [threading.Event() for _ in range(20)]
        self.running = 0
        self.most_running = 0
        self._lock = threading.Lock()

    def __call__(self, entry: ScheduleEntry[None], due_at: datetime) -> str | None:
        with self._lock:
            number = len(self.calls)
            self.calls.append((entry.pipeline, due_at))
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        self.entered[number].set()
        try:
            if self.hold:
                assert self.release.wait(WAIT_S)
            if number in self.fail:
                raise RuntimeError(f"boom {number}")
            return f"run-{number}"
        finally:
            with self._lock:
                self.running -= 1

    def due_times(self) -> list[datetime]:
        return [due for _, due in self.calls]


def entry(pipeline: str = "shop", **schedule: object) -> ScheduleEntry[None]:
    return ScheduleEntry(pipeline, ScheduleSpec.model_validate(schedule), None)


def scheduler(
    store: MetaStore,
    clock: ManualClock,
    launcher: Launcher,
    *entries: ScheduleEntry[None],
    actions: list[Action] | None = None,
) -> Scheduler[None]:
    return Scheduler(
        entries or [entry(every="1m")],
        launch=launcher,
        store=store,
        clock=clock,
        on_action=None if actions is None else actions.append,
    )


def kinds(actions: list[Action]) -> list[tuple[ActionKind, datetime | None]]:
    return [(a.kind, a.due_at) for a in actions]


def tick_and_wait(sched: Scheduler[None]) -> list[Action]:
    actions = sched.tick()
    assert sched.wait(WAIT_S)
    return actions


# --- triggers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "after", "expected"),
    [
        ("@hourly", utc(2024, 6, 3, 12, 0), utc(2024, 6, 3, 13, 0)),
        ("@daily", utc(2024, 6, 3, 12, 0), utc(2024, 6, 4, 0, 0)),
        ("@midnight", utc(2024, 6, 3, 23, 59), utc(2024, 6, 4, 0, 0)),
        ("@weekly", utc(2024, 6, 3, 12, 0), utc(2024, 6, 9, 0, 0)),  # the next Sunday
        ("@monthly", utc(2024, 6, 3, 12, 0), utc(2024, 7, 1, 0, 0)),
        ("@yearly", utc(2024, 6, 3, 12, 0), utc(2025, 1, 1, 0, 0)),
        ("@annually", utc(2024, 12, 31, 23, 59), utc(2025, 1, 1, 0, 0)),
        ("*/15 * * * *", utc(2024, 6, 3, 12, 0), utc(2024, 6, 3, 12, 15)),
        ("0 3 * * MON-FRI", utc(2024, 6, 7, 4, 0), utc(2024, 6, 10, 3, 0)),  # Fri → Mon
        ("0 0 L * *", utc(2024, 2, 3, 0, 0), utc(2024, 2, 29, 0, 0)),  # the month's last day
    ],
)
def test_cron_presets_and_expressions(preset: str, after: datetime, expected: datetime) -> None:
    trigger = CronTrigger(preset, UTC)
    assert trigger.next_after(after) == expected
    assert trigger.previous_before(expected) <= after


def test_cron_in_a_zone_is_wall_clock_time() -> None:
    trigger = CronTrigger("0 9 * * *", ZoneInfo("Europe/Paris"))
    assert trigger.next_after(utc(2024, 1, 15, 0, 0)) == utc(2024, 1, 15, 8, 0)  # CET
    assert trigger.next_after(utc(2024, 7, 15, 0, 0)) == utc(2024, 7, 15, 7, 0)  # CEST


def test_spring_forward_a_skipped_wall_time_fires_at_the_jump_once() -> None:
    # 2024-03-10, New York: the clocks jump from 02:00 EST to 03:00 EDT (07:00 UTC).
    daily = CronTrigger("30 2 * * *", NEW_YORK)
    night = at(2024, 3, 10, 0, 0)
    assert daily.next_after(night) == utc(2024, 3, 10, 7, 0)  # 03:00 EDT
    assert daily.next_after(utc(2024, 3, 10, 7, 0)) == at(2024, 3, 11, 2, 30)
    quarterly = CronTrigger("*/15 2 * * *", NEW_YORK)  # 02:00 … 02:45 all skipped: one fire
    fires = quarterly.due(night, at(2024, 3, 11, 0, 0), limit=10).times
    assert fires == (utc(2024, 3, 10, 7, 0),)
    hourly = CronTrigger("@hourly", NEW_YORK)
    assert hourly.due(night, at(2024, 3, 10, 4, 0), limit=10).times == (
        at(2024, 3, 10, 1, 0),
        at(2024, 3, 10, 3, 0),  # an hour after 01:00 EST
        at(2024, 3, 10, 4, 0),
    )


def test_fall_back_a_repeated_wall_time_fires_once_unless_hourly() -> None:
    # 2024-11-03, New York: the clocks go back from 02:00 EDT to 01:00 EST (06:00 UTC).
    night = at(2024, 11, 3, 0, 0)
    daily = CronTrigger("30 1 * * *", NEW_YORK)
    assert daily.due(night, at(2024, 11, 4, 12, 0), limit=10).times == (
        utc(2024, 11, 3, 5, 30),  # 01:30 EDT, the first time; not 01:30 EST again
        at(2024, 11, 4, 1, 30),
    )
    hourly = CronTrigger("0 * * * *", NEW_YORK)
    fires = hourly.due(night, at(2024, 11, 3, 3, 0), limit=10).times
    assert fires == (
        utc(2024, 11, 3, 5, 0),  # 01:00 EDT
        utc(2024, 11, 3, 6, 0),  # 01:00 EST: every real hour fires
        utc(2024, 11, 3, 7, 0),  # 02:00 EST
        utc(2024, 11, 3, 8, 0),  # 03:00 EST
    )
    assert [hourly.next_after(t - MINUTE) for t in fires] == list(fires)


def test_cron_due_keeps_the_most_recent_and_counts_the_rest() -> None:
    trigger = CronTrigger("*/5 * * * *", UTC)
    due = trigger.due(T0, T0 + timedelta(hours=1), limit=3)
    assert due.times == (T0 + 50 * MINUTE, T0 + 55 * MINUTE, T0 + 60 * MINUTE)
    assert due.dropped == 9
    assert trigger.due(T0, T0 + 4 * MINUTE, limit=3).times == ()


def test_an_interval_counts_from_its_anchor() -> None:
    anchor = T0 + timedelta(seconds=17)
    trigger = IntervalTrigger(timedelta(minutes=10), anchor=anchor)
    assert trigger.next_after(T0) == anchor + 10 * MINUTE
    assert trigger.next_after(anchor + 10 * MINUTE) == anchor + 20 * MINUTE
    due = trigger.due(anchor + 10 * MINUTE, anchor + 65 * MINUTE, limit=2)
    assert due.times == (anchor + 50 * MINUTE, anchor + 60 * MINUTE)
    assert due.dropped == 3  # at 20, 30 and 40 minutes


def test_cron_and_interval_agree_on_a_regular_rhythm() -> None:
    cron = CronTrigger("*/5 * * * *", UTC)
    interval = IntervalTrigger(timedelta(minutes=5), anchor=T0)
    since, now = T0 + 7 * MINUTE, T0 + timedelta(hours=3, minutes=2)
    assert cron.due(since, now, limit=100) == interval.due(since, now, limit=100)
    assert cron.due(since, now, limit=4) == interval.due(since, now, limit=4)


# --- the scheduler -------------------------------------------------------------------------


def test_first_sight_misses_nothing_and_an_interval_runs_from_it(store: MetaStore) -> None:
    clock = ManualClock(T0 + timedelta(seconds=17))
    launcher = Launcher()
    sched = scheduler(store, clock, launcher, entry(every="10m", catchup="all"))
    registered = sched.tick()
    assert kinds(registered) == [(ActionKind.REGISTERED, None)]
    assert registered[0].reason == "first seen: nothing missed"
    state = load_schedule_state(store, "shop")
    assert state is not None
    assert (state.schedule, state.last_fire_at) == ("every 10m", None)
    assert state.next_fire_at == T0 + timedelta(minutes=10, seconds=17)

    clock.advance(timedelta(minutes=9, seconds=59))
    assert tick_and_wait(sched) == []
    clock.advance(timedelta(seconds=1))
    assert kinds(tick_and_wait(sched)) == [(ActionKind.LAUNCHED, clock.now())]
    assert launcher.calls == [("shop", T0 + timedelta(minutes=10, seconds=17))]
    state = load_schedule_state(store, "shop")
    assert state is not None
    assert state.last_fire_at == T0 + timedelta(minutes=10, seconds=17)
    assert state.next_fire_at == T0 + timedelta(minutes=20, seconds=17)
    assert (state.details["launched"], state.details["last_run"]["run_id"]) == (1, "run-0")


def test_catchup_skip_runs_only_the_latest_missed_time(store: MetaStore) -> None:
    clock = ManualClock(T0)
    launcher = Launcher()
    sched = scheduler(store, clock, launcher, entry(every="1m"))
    sched.tick()
    clock.advance(10 * MINUTE + timedelta(seconds=30))  # stalled: ten fire times went by
    actions = tick_and_wait(sched)
    assert kinds(actions) == [(ActionKind.MISSED, None), (ActionKind.LAUNCHED, T0 + 10 * MINUTE)]
    assert actions[0].count == 9
    assert launcher.due_times() == [T0 + 10 * MINUTE]
    state = sched.state("shop")
    assert state is not None
    assert (state.last_fire_at, state.next_fire_at) == (T0 + 10 * MINUTE, T0 + 11 * MINUTE)
    assert state.details["missed"] == 9


def test_catchup_all_runs_the_most_recent_up_to_the_limit_oldest_first(store: MetaStore) -> None:
    clock = ManualClock(T0)
    launcher = Launcher()
    sched = scheduler(store, clock, launcher, entry(every="1m", catchup="all", catchup_limit=3))
    sched.tick()
    clock.advance(10 * MINUTE)
    actions = tick_and_wait(sched)
    assert kinds(actions) == [
        (ActionKind.MISSED, None),
        (ActionKind.LAUNCHED, T0 + 8 * MINUTE),
        (ActionKind.LAUNCHED, T0 + 9 * MINUTE),
        (ActionKind.LAUNCHED, T0 + 10 * MINUTE),
    ]
    assert actions[0].count == 7
    assert launcher.due_times() == [T0 + 8 * MINUTE, T0 + 9 * MINUTE, T0 + 10 * MINUTE]
    assert launcher.most_running == 1  # one after another, in one worker


def test_max_active_runs_limits_concurrent_runs_and_skips_beyond(store: MetaStore) -> None:
    clock = ManualClock(T0)
    launcher = Launcher(hold=True)
    actions: list[Action] = []
    sched = scheduler(store, clock, launcher, entry(every="1m", max_active_runs=2), actions=actions)
    sched.tick()
    for minute in (1, 2):
        clock.set(T0 + minute * MINUTE)
        assert kinds(sched.tick()) == [(ActionKind.LAUNCHED, clock.now())]
    assert launcher.entered[0].wait(WAIT_S)
    assert launcher.entered[1].wait(WAIT_S)
    assert (launcher.running, sched.active_runs("shop")) == (2, 2)  # provably concurrent

    clock.set(T0 + 3 * MINUTE)
    skipped = sched.tick()
    assert kinds(skipped) == [(ActionKind.SKIPPED, T0 + 3 * MINUTE)]
    assert skipped[0].reason == "2 run(s) still active (max_active_runs: 2)"

    launcher.release.set()
    assert sched.wait(WAIT_S)
    assert launcher.most_running == 2
    clock.set(T0 + 4 * MINUTE)
    assert kinds(tick_and_wait(sched)) == [(ActionKind.LAUNCHED, T0 + 4 * MINUTE)]
    assert launcher.due_times() == [T0 + MINUTE, T0 + 2 * MINUTE, T0 + 4 * MINUTE]
    state = load_schedule_state(store, "shop")
    assert state is not None
    assert (state.details["launched"], state.details["skipped"]) == (3, 1)
    finished = [a.due_at for a in actions if a.kind is ActionKind.FINISHED]
    assert sorted(d for d in finished if d is not None) == launcher.due_times()


def test_a_catchup_batch_holds_one_slot(store: MetaStore) -> None:
    clock = ManualClock(T0)
    launcher = Launcher(hold=True)
    sched = scheduler(store, clock, launcher, entry(every="1m", catchup="all"))
    sched.tick()
    clock.advance(3 * MINUTE)
    assert [a.kind for a in sched.tick()] == [ActionKind.LAUNCHED] * 3
    assert launcher.entered[0].wait(WAIT_S)
    clock.advance(MINUTE)
    assert kinds(sched.tick()) == [(ActionKind.SKIPPED, T0 + 4 * MINUTE)]
    launcher.release.set()
    assert sched.wait(WAIT_S)
    assert launcher.due_times() == [T0 + MINUTE, T0 + 2 * MINUTE, T0 + 3 * MINUTE]


def test_a_failing_launch_is_recorded_and_scheduling_goes_on(store: MetaStore) -> None:
    clock = ManualClock(T0)
    launcher = Launcher(fail={0})
    actions: list[Action] = []
    sched = scheduler(store, clock, launcher, entry(every="1m"), actions=actions)
    sched.tick()
    clock.advance(MINUTE)
    tick_and_wait(sched)
    failed = [a for a in actions if a.kind is ActionKind.FAILED]
    assert [(a.due_at, a.reason) for a in failed] == [(T0 + MINUTE, "RuntimeError: boom 0")]
    state = load_schedule_state(store, "shop")
    assert state is not None
    assert state.details["failed"] == 1
    assert state.details["last_run"] == {
        "due_at": (T0 + MINUTE).isoformat(),
        "finished_at": (T0 + MINUTE).isoformat(),
        "run_id": None,
        "error": "RuntimeError: boom 0",
    }
    clock.advance(MINUTE)
    tick_and_wait(sched)
    finished = [(a.due_at, a.run_id) for a in actions if a.kind is ActionKind.FINISHED]
    assert finished == [(T0 + 2 * MINUTE, "run-1")]


class SteppingClock(ManualClock):
    """A manual clock whose sleep first lets the scheduler's runs finish, so that a serve
    loop on it is deterministic."""

    sched: Scheduler[None] | None = None

    def sleep(self, seconds: float) -> None:
        assert self.sched is not None
        assert self.sched.wait(WAIT_S)
        super().sleep(seconds)


def test_serve_loops_until_stopped_through_failures(store: MetaStore) -> None:
    clock = SteppingClock(T0)
    stop = threading.Event()
    calls: list[datetime] = []

    def launch(entry: ScheduleEntry[None], due_at: datetime) -> str:
        calls.append(due_at)
        if len(calls) == 3:
            stop.set()
        if len(calls) == 1:
            raise ValueError("the first run cannot start")
        return f"run-{len(calls)}"

    sched = Scheduler([entry(every="1m")], launch=launch, store=store, clock=clock)
    clock.sched = sched
    sched.serve(stop)
    assert calls == [T0 + MINUTE, T0 + 2 * MINUTE, T0 + 3 * MINUTE]
    assert max(clock.slept) <= 1.0  # stop is noticed within a second
    state = load_schedule_state(store, "shop")
    assert state is not None
    assert state.details["failed"] == 1
    assert state.details["last_run"]["run_id"] == "run-3"


def test_a_stop_hands_back_the_catchup_runs_not_started(store: MetaStore) -> None:
    clock = ManualClock(T0)
    Scheduler(
        [entry(every="1m", catchup="all")], launch=Launcher(), store=store, clock=clock
    ).tick()
    clock.advance(3 * MINUTE)
    stop = threading.Event()
    calls: list[datetime] = []

    def launch(entry: ScheduleEntry[None], due_at: datetime) -> str:
        calls.append(due_at)
        stop.set()  # Ctrl-C during the first catch-up run
        return "run"

    Scheduler([entry(every="1m", catchup="all")], launch=launch, store=store, clock=clock).serve(
        stop
    )
    assert calls == [T0 + MINUTE]
    state = load_schedule_state(store, "shop")
    assert state is not None
    assert state.last_fire_at == T0 + MINUTE  # the two not started are due again

    launcher = Launcher()
    restarted = scheduler(store, clock, launcher, entry(every="1m", catchup="all"))
    tick_and_wait(restarted)
    assert launcher.due_times() == [T0 + 2 * MINUTE, T0 + 3 * MINUTE]


def test_state_survives_a_restart_and_missed_runs_are_caught_up(store: MetaStore) -> None:
    clock = ManualClock(T0 + timedelta(seconds=5))
    first = scheduler(store, clock, Launcher(), entry(every="5m", catchup="all", catchup_limit=10))
    first.tick()
    clock.advance(5 * MINUTE)
    tick_and_wait(first)
    del first  # the process ends

    clock.advance(18 * MINUTE)  # down for 18 minutes: 10, 15 and 20 past were missed
    launcher = Launcher()
    second = scheduler(store, clock, launcher, entry(every="5m", catchup="all", catchup_limit=10))
    actions = tick_and_wait(second)
    anchor = T0 + timedelta(seconds=5)
    missed = [anchor + 10 * MINUTE, anchor + 15 * MINUTE, anchor + 20 * MINUTE]
    assert kinds(actions) == [(ActionKind.LAUNCHED, t) for t in missed]
    assert launcher.due_times() == missed
    state = load_schedule_state(store, "shop")
    assert state is not None
    assert (state.last_fire_at, state.next_fire_at) == (missed[-1], anchor + 25 * MINUTE)
    assert state.details["launched"] == 4


def test_a_cron_schedule_restarted_with_skip_runs_the_latest_only(store: MetaStore) -> None:
    clock = ManualClock(utc(2024, 6, 3, 9, 30))
    scheduler(store, clock, Launcher(), entry(cron="@hourly")).tick()
    clock.set(utc(2024, 6, 3, 14, 10))
    launcher = Launcher()
    actions = tick_and_wait(scheduler(store, clock, launcher, entry(cron="@hourly")))
    assert kinds(actions) == [(ActionKind.MISSED, None), (ActionKind.LAUNCHED, utc(2024, 6, 3, 14))]
    assert actions[0].count == 4  # 10:00 to 13:00
    assert launcher.due_times() == [utc(2024, 6, 3, 14)]


def test_a_cron_schedule_across_the_spring_forward_night(store: MetaStore) -> None:
    clock = ManualClock(utc(2024, 3, 9, 12, 0))
    launcher = Launcher()
    nightly = entry(cron="30 2 * * *", timezone="America/New_York")
    sched = scheduler(store, clock, launcher, nightly)
    sched.tick()
    state = sched.state("shop")
    assert state is not None
    assert state.next_fire_at == utc(2024, 3, 10, 7, 0)  # 02:30 does not exist: 03:00 EDT
    clock.set(utc(2024, 3, 10, 6, 59))
    assert tick_and_wait(sched) == []
    clock.set(utc(2024, 3, 10, 7, 0))
    assert kinds(tick_and_wait(sched)) == [(ActionKind.LAUNCHED, utc(2024, 3, 10, 7, 0))]
    state = sched.state("shop")
    assert state is not None
    assert state.next_fire_at == at(2024, 3, 11, 2, 30)


def test_a_changed_schedule_starts_afresh(store: MetaStore) -> None:
    clock = ManualClock(T0)
    scheduler(store, clock, Launcher(), entry(every="1m")).tick()
    clock.advance(30 * MINUTE)
    launcher = Launcher()
    changed = scheduler(store, clock, launcher, entry(every="10m", catchup="all"))
    actions = tick_and_wait(changed)
    assert kinds(actions) == [(ActionKind.REGISTERED, None)]
    assert actions[0].reason == "schedule changed from every 1m: nothing missed"
    assert launcher.calls == []
    state = load_schedule_state(store, "shop")
    assert state is not None
    assert (state.schedule, state.next_fire_at) == ("every 10m", T0 + 40 * MINUTE)
    assert state.details["changed_from"] == "every 1m"


def test_disabled_schedules_are_left_alone(store: MetaStore) -> None:
    clock = ManualClock(T0)
    sched = scheduler(
        store, clock, Launcher(), entry("off", every="1m", enabled=False), entry("on", every="1m")
    )
    assert kinds(sched.tick()) == [(ActionKind.REGISTERED, None)]
    assert [s.pipeline for s in list_schedule_states(store)] == ["on"]


def test_a_pipeline_cannot_be_scheduled_twice(store: MetaStore) -> None:
    with pytest.raises(ValueError, match="pipeline 'shop' is scheduled twice"):
        scheduler(store, ManualClock(T0), Launcher(), entry(every="1m"), entry(cron="@daily"))


def test_schedule_state_round_trips_and_refuses_naive_times(store: MetaStore) -> None:
    state = ScheduleState("shop", "@hourly", None, T0, T0, {"anchor": T0.isoformat()})
    save_schedule_state(store, state)
    assert load_schedule_state(store, "shop") == state
    moved = ScheduleState("shop", "@hourly", T0, T0 + MINUTE, T0, {"n": 1})
    save_schedule_state(store, moved)
    assert list_schedule_states(store) == [moved]
    assert load_schedule_state(store, "other") is None
    naive = ScheduleState("shop", "@hourly", None, datetime(2024, 1, 1), T0)
    with pytest.raises(ValueError, match="next_fire_at must be timezone-aware"):
        save_schedule_state(store, naive)
