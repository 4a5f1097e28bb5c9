"""The pipeline run lock: one holder at a time, who holds it, freed when the holder dies.

Most tests hold the lock in one thread and ask for it from another: ``flock`` treats two open
files of one process like two processes, so a second thread is refused just as a second run
would be. The tests marked ``integration`` use real child processes (SIGKILL, fork).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from sluiceway.core.errors import ConfigError, ErrorClass, PipelineLockedError, classify
from sluiceway.engine.run_lock import LockHolder, PipelineLock, lock_path, read_holder

RUN = "01JAAAAAAAAAAAAAAAAAAAAAA1"


def in_thread(action: Callable[[], object]) -> BaseException | None:
    """Run ``action`` in another thread; the exception it raised, if any."""
    caught: list[BaseException] = []

    def target() -> None:
        try:
            action()
        except BaseException as exc:
            caught.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(30)
    return caught[0] if caught else None


def refusal(state: Path, *, wait: float = 0.0) -> PipelineLockedError:
    """Ask for the lock of `shop` from another thread and return the refusal."""

    def take() -> None:
        with PipelineLock(state, "shop", wait=wait):
            pass

    error = in_thread(take)
    assert isinstance(error, PipelineLockedError), error
    return error


def free(state: Path) -> bool:
    """Whether another thread can take the lock of `shop` now."""
    return in_thread(lambda: PipelineLock(state, "shop").acquire().release()) is None


@pytest.mark.unit
def test_acquire_writes_the_holder_and_release_empties_the_file(tmp_path: Path) -> None:
    lock = PipelineLock(tmp_path, "shop", run_id=RUN, command="sluiceway run shop")
    assert lock.path == (tmp_path / "locks" / "shop.lock").resolve()
    states = [lock.held]
    with lock:
        states.append(lock.held)
        holder = read_holder(lock.path)
        assert holder is not None
        assert (holder.pid, holder.host, holder.run_id, holder.command) == (
            os.getpid(),
            socket.gethostname(),
            RUN,
            "sluiceway run shop",
        )
        assert holder.started_at is not None
        assert abs((datetime.now(UTC) - holder.started_at).total_seconds()) < 60
    states.append(lock.held)
    assert states == [False, True, False]
    # The file stays (deleting a lock file races with the next holder), empty.
    assert lock.path.read_bytes() == b""
    assert read_holder(lock.path) is None


@pytest.mark.unit
def test_a_second_holder_is_refused_with_the_first_ones_details(tmp_path: Path) -> None:
    with PipelineLock(tmp_path, "shop", run_id=RUN, command="sluiceway run shop"):
        error = refusal(tmp_path)
    assert error.message.startswith(f"pipeline 'shop' is already running (run {RUN}, ")
    assert f"pid {os.getpid()} on {socket.gethostname()}, since " in error.message
    assert error.message.endswith(" UTC)")
    assert error.hint is not None
    assert f"`ps -p {os.getpid()}`" in error.hint
    assert "frees itself when that process ends" in error.hint
    assert "Started by: sluiceway run shop" in error.hint
    assert (error.pipeline, error.run_id, error.pid) == ("shop", RUN, os.getpid())
    # Another run holding the lock goes away by itself: try again later.
    assert classify(error) is ErrorClass.TRANSIENT


@pytest.mark.unit
def test_the_lock_can_be_taken_again_after_release(tmp_path: Path) -> None:
    with PipelineLock(tmp_path, "shop", run_id=RUN):
        assert not free(tmp_path)
    assert free(tmp_path)
    with PipelineLock(tmp_path, "shop", run_id="01JAAAAAAAAAAAAAAAAAAAAAB2") as again:
        holder = again.holder()
        assert holder is not None
        assert holder.run_id == "01JAAAAAAAAAAAAAAAAAAAAAB2"
    assert free(tmp_path)


@pytest.mark.unit
def test_pipelines_and_state_folders_lock_separately(tmp_path: Path) -> None:
    with PipelineLock(tmp_path / "a", "shop"):
        assert in_thread(lambda: PipelineLock(tmp_path / "a", "crm").acquire().release()) is None
        assert free(tmp_path / "b")
        assert not free(tmp_path / "a")


@pytest.mark.unit
def test_the_holding_thread_may_take_it_again(tmp_path: Path) -> None:
    """`dlq replay` holds the lock across rounds; each round's run takes it once more."""
    with PipelineLock(tmp_path, "shop", run_id=RUN) as outer:
        with PipelineLock(tmp_path, "shop", run_id="01JAAAAAAAAAAAAAAAAAAAAAB2"):
            assert not free(tmp_path)
        # The inner release leaves the outer hold (and its details) in place.
        assert outer.held
        assert not free(tmp_path)
        holder = read_holder(outer.path)
        assert holder is not None
        assert holder.run_id == RUN
    assert free(tmp_path)


@pytest.mark.unit
def test_one_object_cannot_acquire_twice(tmp_path: Path) -> None:
    lock = PipelineLock(tmp_path, "shop").acquire()
    with pytest.raises(RuntimeError, match="already held"):
        lock.acquire()
    lock.release()
    lock.release()  # a second release does nothing
    assert free(tmp_path)


@pytest.mark.unit
def test_wait_takes_the_lock_once_the_holder_lets_go(tmp_path: Path) -> None:
    holder = PipelineLock(tmp_path, "shop", run_id=RUN).acquire()
    waited: list[float] = []

    def wait_for_it() -> None:
        started = time.monotonic()
        with PipelineLock(tmp_path, "shop", wait=10):
            waited.append(time.monotonic() - started)

    timer = threading.Timer(0.3, holder.release)
    timer.start()
    try:
        assert in_thread(wait_for_it) is None
    finally:
        timer.join()
    assert len(waited) == 1
    assert 0.2 < waited[0] < 5


@pytest.mark.unit
def test_wait_gives_up_after_the_time_given(tmp_path: Path) -> None:
    with PipelineLock(tmp_path, "shop", run_id=RUN):
        started = time.monotonic()
        error = refusal(tmp_path, wait=0.3)
        waited = time.monotonic() - started
        immediate = time.monotonic()
        refusal(tmp_path)
        refused_at_once = time.monotonic() - immediate
    assert 0.3 <= waited < 5
    assert refused_at_once < 0.2
    assert error.message.endswith("; waited 0.3s")
    assert f"run {RUN}" in error.message


@pytest.mark.unit
@pytest.mark.parametrize(
    "content",
    [
        b"",
        b'{"pid": 12',
        b"\xff\xfe garbage",
        b"[1, 2]",
        b"null",
    ],
    ids=["empty", "half-written", "binary", "a list", "null"],
)
def test_unreadable_holder_details_are_no_details(tmp_path: Path, content: bytes) -> None:
    path = lock_path(tmp_path, "shop")
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert read_holder(path) is None
    with PipelineLock(tmp_path, "shop"):
        path.write_bytes(content)  # as if the holder died while writing its details
        error = refusal(tmp_path)
    assert error.message == (
        f"pipeline 'shop' is already running (another process holds {path.resolve()})"
    )
    assert error.hint is not None
    assert error.hint.startswith("Wait for it to finish, or check that process. ")
    assert (error.run_id, error.pid) == (None, None)


@pytest.mark.unit
def test_holder_fields_of_the_wrong_type_are_left_out(tmp_path: Path) -> None:
    path = tmp_path / "shop.lock"
    path.write_text('{"pid": true, "host": 3, "run_id": "R1", "started_at": "noon", "x": 1}')
    assert read_holder(path) == LockHolder(run_id="R1")
    assert read_holder(tmp_path / "missing.lock") is None
    path.write_text('{"pid": 7, "started_at": "2024-03-01T12:03:04"}')  # no zone: not ours
    assert read_holder(path) == LockHolder(pid=7)


@pytest.mark.unit
def test_a_holder_without_a_run_is_in_use_not_running(tmp_path: Path) -> None:
    with PipelineLock(tmp_path, "shop", command="sluiceway state reset --yes"):
        error = refusal(tmp_path)
    assert error.message.startswith("pipeline 'shop' is already in use (pid ")
    assert error.hint is not None
    assert error.hint.endswith("Started by: sluiceway state reset --yes")


@pytest.mark.unit
def test_describe_shows_the_date_when_the_holder_started_another_day() -> None:
    started = datetime(2024, 3, 1, 12, 3, 4, tzinfo=UTC)
    holder = LockHolder(pid=1234, host="etl-1", run_id=RUN, started_at=started)
    same_day = datetime(2024, 3, 1, 18, 0, tzinfo=UTC)
    next_day = datetime(2024, 3, 2, 1, 0, tzinfo=UTC)
    assert holder.describe(today=same_day) == f"run {RUN}, pid 1234 on etl-1, since 12:03:04 UTC"
    assert holder.describe(today=next_day).endswith("since 2024-03-01 12:03:04 UTC")
    # Written in another zone (not by Sluiceway), still shown in UTC.
    paris = LockHolder(
        started_at=datetime(2024, 3, 1, 13, 3, 4, tzinfo=timezone(timedelta(hours=1)))
    )
    assert paris.describe(today=same_day) == "since 12:03:04 UTC"
    assert LockHolder(host="etl-1").describe() == "on etl-1"
    assert LockHolder().describe() == ""


@pytest.mark.unit
def test_a_pipeline_name_cannot_leave_the_locks_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a valid pipeline name"):
        PipelineLock(tmp_path, "../shop")


@pytest.mark.unit
def test_a_state_folder_that_cannot_hold_locks_is_a_config_error(tmp_path: Path) -> None:
    blocked = tmp_path / "state"
    blocked.write_text("a file where the state folder should be")
    with pytest.raises(ConfigError, match="cannot create the lock file") as caught:
        PipelineLock(blocked, "shop").acquire()
    assert caught.value.hint is not None
    assert "state_dir" in caught.value.hint


HOLD = textwrap.dedent(
    """\
    import os, sys, time
    from pathlib import Path
    from sluiceway.engine.run_lock import PipelineLock

    lock = PipelineLock(Path(sys.argv[1]), "shop", run_id="CHILD", command="child").acquire()
    if sys.argv[2] == "fork" and os.fork() == 0:
        time.sleep(60)  # the forked child outlives its parent, holding a copy of the fd
        os._exit(0)
    print(os.getpid(), flush=True)
    time.sleep(60)
    """
)


@contextmanager
def holding_process(state: Path, mode: str = "plain") -> Iterator[subprocess.Popen[str]]:
    """A real process that takes the lock of `shop` and sleeps; killed at the end."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, str(state), mode],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its forked child too is ended with the group
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == str(process.pid)
            yield process
        finally:
            with suppress(ProcessLookupError):  # the group may be gone already
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)


@pytest.mark.integration
def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    with holding_process(tmp_path) as process:
        error = refusal(tmp_path)
        assert error.message.startswith("pipeline 'shop' is already running (run CHILD, ")
        assert error.pid == process.pid
        process.send_signal(signal.SIGKILL)  # no cleanup, no atexit, no finally
        process.wait(30)
        assert process.returncode == -signal.SIGKILL
        # The OS dropped the lock with the process; the file still has its details.
        holder = read_holder(lock_path(tmp_path, "shop"))
        assert holder is not None
        assert holder.pid == process.pid
        with PipelineLock(tmp_path, "shop", run_id=RUN) as lock:
            after = lock.holder()
            assert after is not None
            assert after.run_id == RUN


@pytest.mark.integration
def test_a_forked_child_does_not_keep_its_parents_lock(tmp_path: Path) -> None:
    with holding_process(tmp_path, "fork") as process:
        assert not free(tmp_path)
        os.kill(process.pid, signal.SIGKILL)  # the parent only; its forked child sleeps on
        process.wait(30)
        assert free(tmp_path)
