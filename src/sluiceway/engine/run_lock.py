"""One run of a pipeline at a time: a second run is refused, never interleaved.

A run holds an exclusive ``flock`` on ``<state_dir>/locks/<pipeline>.lock`` from start to end::

    with PipelineLock(state_dir, "shop", run_id=run_id):
        ...  # read, stage, commit: no other process runs `shop` meanwhile

A second process asking for the same lock gets :class:`~sluiceway.core.errors.PipelineLockedError`
at once (or after ``wait`` seconds), naming the run that holds it: its run id, pid, host, start
time and command line, which the holder writes into the lock file.

Why ``flock``: the operating system drops the lock when the holding process ends, however it
ends (SIGKILL and power loss included), so a killed run never leaves a stale lock behind and
there is no "is that pid still alive?" guesswork. For the same reason the lock file is never
deleted: it is only emptied on release. Deleting it would let one process lock the old file
while another locks a new one under the same name.

Scope: the lock is per machine, or more exactly per ``state_dir`` on a local disk. Two machines
with separate state folders do not see each other's locks, and ``flock`` over NFS is not to be
relied on. Multi-machine setups need a lock in the warehouse itself: that comes with the
PostgreSQL warehouse (a session advisory lock keyed by the pipeline); DuckDB's file already
admits a single writer. POSIX only (``fcntl``); Windows is not a target.

Within one process the lock is re-entrant for the thread that holds it (``dlq replay`` holds it
across its rounds and each round's run takes it again); another thread of the same process is
refused like another process would be.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shlex
import socket
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from sluiceway.core.clock import monotonic, utcnow
from sluiceway.core.errors import ConfigError, PipelineLockedError

LOCKS_DIR = "locks"
POLL_INTERVAL_S = 0.1  # how often a waiting run tries again
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_MAX_HOLDER_BYTES = 64 * 1024  # the holder's details are a few hundred bytes; never read more


def lock_path(state_dir: Path, pipeline: str) -> Path:
    """Where the lock of ``pipeline`` lives: ``<state_dir>/locks/<pipeline>.lock``."""
    if not _NAME.match(pipeline):
        raise ConfigError(
            f"{pipeline!r} is not a valid pipeline name; use letters, digits, _ and -"
        )
    return state_dir / LOCKS_DIR / f"{pipeline}.lock"


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds a pipeline's lock, as the holder wrote it. Any field may be missing."""

    pid: int | None = None
    host: str | None = None
    run_id: str | None = None
    started_at: datetime | None = None
    command: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "pid": self.pid,
                "host": self.host,
                "run_id": self.run_id,
                "started_at": self.started_at.isoformat() if self.started_at else None,
                "command": self.command,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> LockHolder | None:
        """The holder in ``text``; ``None`` when it is empty, half-written or not ours."""
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        return cls(
            pid=_int(data.get("pid")),
            host=_str(data.get("host")),
            run_id=_str(data.get("run_id")),
            started_at=_timestamp(data.get("started_at")),
            command=_str(data.get("command")),
        )

    def describe(self, *, today: datetime | None = None) -> str:
        """``run 01H..., pid 1234 on host, since 12:03:04 UTC``, leaving out what is unknown."""
        parts: list[str] = []
        if self.run_id:
            parts.append(f"run {self.run_id}")
        if self.pid is not None:
            parts.append(f"pid {self.pid}" + (f" on {self.host}" if self.host else ""))
        elif self.host:
            parts.append(f"on {self.host}")
        if self.started_at is not None:
            started = self.started_at.astimezone(UTC)
            day = (today or utcnow()).astimezone(UTC).date()
            form = "%H:%M:%S" if started.date() == day else "%Y-%m-%d %H:%M:%S"
            parts.append(f"since {started.strftime(form)} UTC")
        return ", ".join(parts)


def read_holder(path: Path) -> LockHolder | None:
    """The details the lock's holder wrote, or ``None`` when there are none to read.

    The file may be missing, empty (released, or just taken and not written yet) or half
    written; all of those read as ``None``. Reading takes no lock.
    """
    try:
        with path.open("rb") as file:
            raw = file.read(_MAX_HOLDER_BYTES)
    except OSError:
        return None
    return LockHolder.from_json(raw.decode("utf-8", errors="replace"))


@dataclass
class _Held:
    fd: int
    thread: int
    depth: int


# Locks this process holds, by path: a nested acquire in the holding thread only counts.
_held: dict[Path, _Held] = {}
_held_guard = threading.Lock()


def _forget_in_child() -> None:
    # A forked child shares the parent's open lock files. Close its copies (never LOCK_UN,
    # which would release the parent's lock too), so the lock still ends with the parent.
    global _held_guard  # noqa: PLW0603 - another thread may have held it at the fork
    _held_guard = threading.Lock()
    for held in _held.values():
        with contextlib.suppress(OSError):
            os.close(held.fd)
    _held.clear()


os.register_at_fork(after_in_child=_forget_in_child)


class PipelineLock:
    """The exclusive lock of one pipeline's runs in one state folder.

    ``wait`` is how many seconds to keep trying before refusing (0: refuse at once).
    ``run_id`` and ``command`` go into the lock file so a refused run can say who holds it;
    ``command`` defaults to this process's command line. Use it as a context manager, or call
    :meth:`acquire` and :meth:`release`.
    """

    def __init__(
        self,
        state_dir: Path,
        pipeline: str,
        *,
        run_id: str | None = None,
        wait: float = 0.0,
        command: str | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.path = lock_path(state_dir, pipeline).resolve()
        self.run_id = run_id
        self.wait = max(0.0, wait)
        self.command = command if command is not None else _command_line()
        self._acquired = False

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._acquired

    def acquire(self) -> Self:
        """Take the lock, waiting up to ``wait`` seconds; raises PipelineLockedError if held."""
        if self._acquired:
            raise RuntimeError(f"{self.path} is already held by this PipelineLock")
        me = threading.get_ident()
        with _held_guard:
            held = _held.get(self.path)
            if held is not None and held.thread == me:
                held.depth += 1
                self._acquired = True
                return self
        deadline = monotonic() + self.wait
        while True:
            fd = self._try_lock()
            if fd is not None:
                break
            left = deadline - monotonic()
            if left <= 0:
                raise self._refusal()
            time.sleep(min(POLL_INTERVAL_S, left))
        self._write_holder(fd)
        with _held_guard:
            _held[self.path] = _Held(fd=fd, thread=me, depth=1)
        self._acquired = True
        return self

    def release(self) -> None:
        """Let the lock go (emptying the file first); a no-op if this object does not hold it."""
        if not self._acquired:
            return
        self._acquired = False
        with _held_guard:
            held = _held.get(self.path)
            if held is None:  # a forked child whose copy was closed at fork
                return
            held.depth -= 1
            if held.depth > 0:
                return
            del _held[self.path]
        try:
            # Empty before unlocking: once unlocked the file may already be the next holder's.
            with contextlib.suppress(OSError):
                os.ftruncate(held.fd, 0)
            fcntl.flock(held.fd, fcntl.LOCK_UN)
        finally:
            os.close(held.fd)

    def holder(self) -> LockHolder | None:
        """Who holds the lock now, as far as the file says (see :func:`read_holder`)."""
        return read_holder(self.path)

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def _try_lock(self) -> int | None:
        """An open descriptor holding the lock, or ``None`` if another holder has it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the lock file {self.path}: {exc.strerror or exc}",
                hint="Runs lock their pipeline in the state folder; make it writable, or set "
                "`state_dir` to a folder you can write to.",
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except OSError as exc:
            os.close(fd)
            raise ConfigError(
                f"cannot lock {self.path}: {exc.strerror or exc}",
                hint="The state folder must be on a file system that supports flock "
                "(a local disk); set `state_dir` to one.",
            ) from exc
        return fd

    def _write_holder(self, fd: int) -> None:
        holder = LockHolder(
            pid=os.getpid(),
            host=socket.gethostname(),
            run_id=self.run_id,
            started_at=utcnow().replace(microsecond=0),
            command=self.command,
        )
        data = holder.to_json().encode("utf-8")
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
        except OSError:
            # Only the details are lost: the lock itself is held. A refused run says less.
            pass

    def _refusal(self) -> PipelineLockedError:
        holder = self.holder() or LockHolder()
        details = holder.describe()
        doing = "running" if holder.run_id or not details else "in use"
        message = f"pipeline {self.pipeline!r} is already {doing}"
        message += f" ({details})" if details else f" (another process holds {self.path})"
        if self.wait > 0:
            message += f"; waited {self.wait:g}s"
        check = "Wait for it to finish, or check that process"
        if holder.pid is not None:
            elsewhere = holder.host is not None and holder.host != socket.gethostname()
            check += f" (`ps -p {holder.pid}`" + (f" on {holder.host})" if elsewhere else ")")
        hint = f"{check}. The lock frees itself when that process ends, even if it is killed."
        if holder.command:
            hint += f"\nStarted by: {holder.command}"
        return PipelineLockedError(
            message, pipeline=self.pipeline, run_id=holder.run_id, pid=holder.pid, hint=hint
        )


def _command_line() -> str:
    """This process's command line, ``sluiceway run shop`` rather than a path to python."""
    args = list(sys.argv)
    if args and Path(args[0]).name in {"__main__.py", "sluiceway"}:
        args[0] = "sluiceway"
    return shlex.join(args) if args else "python"


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
