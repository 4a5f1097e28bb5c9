"""The metadata store: what ran, when, how it went, and the schema history of every table.

One :class:`MetaStore` wraps one SQLAlchemy engine: SQLite (WAL) in the project's ``.sluiceway/``
folder by default, PostgreSQL when a team shares it. Opening a store brings its schema to the
current revision (see :mod:`sluiceway.meta.migrate`).

Every public method either succeeds or raises :class:`MetaStoreError` (:class:`NotFoundError`
for an unknown run, step or schema version); SQLAlchemy's exceptions never leave this module,
but stay attached as ``__cause__``. Misuse of the API (a naive datetime, finishing a run as
"running") raises ``ValueError``.

Example::

    with MetaStore.for_state_dir(Path(".sluiceway")) as store:
        store.start_run(run_id, "orders")
        store.start_step(run_id, "extract_orders", kind="extract", target="raw.orders")
        store.finish_step(run_id, "extract_orders", StepStatus.SUCCEEDED,
                          rows_in=10, rows_out=10, rows_rejected=0)
        store.finish_run(run_id, RunStatus.SUCCEEDED, rows_in=10, rows_out=10, rows_rejected=0)
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

from sqlalchemy import case, func, insert, literal, select, update
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import IntegrityError

from sluiceway.core.clock import utcnow
from sluiceway.core.errors import ErrorClass, MetaStoreError, NotFoundError
from sluiceway.core.status import RunStatus, StepStatus
from sluiceway.meta import quality_history, schema_registry
from sluiceway.meta.engines import (
    WRITE_OPTIONS,
    create_meta_engine,
    describe_url,
    translate_errors,
)
from sluiceway.meta.migrate import ensure_schema
from sluiceway.meta.process_liveness import process_is_alive
from sluiceway.meta.quality_history import QualityRecord
from sluiceway.meta.records import RunRecord, SchemaTableRecord, SchemaVersionRecord, StepRecord
from sluiceway.meta.tables import UTCDateTime, runs, step_runs

DB_FILENAME: Final = "meta.db"
MIN_PREFIX: Final = 4
"""The shortest run-id prefix :meth:`MetaStore.get_run` accepts."""

_RUN_ID_LENGTH: Final = 26
_MAX_CANDIDATES: Final = 10
_RUNS_HINT: Final = "run `sluiceway runs` to list recent runs and their ids"
_UNFINISHED_STEP: Final = frozenset({StepStatus.PENDING, StepStatus.RUNNING})
_LIVE: Final = (RunStatus.RUNNING.value, RunStatus.PAUSED.value)


class MetaStore:
    """Runs, step runs and schema versions, recorded in a SQL database through SQLAlchemy Core.

    Build one with :meth:`open` or :meth:`for_state_dir`; close it with :meth:`close` or use it
    as a context manager. A store is safe to share between threads, and any number of
    processes may open the same database at once.
    """

    def __init__(self, engine: Engine) -> None:
        """Wrap an engine whose schema is already current; prefer :meth:`open`."""
        self._engine = engine
        # Same pool and listeners; its transactions take SQLite's write lock at BEGIN.
        self._writer = engine.execution_options(**WRITE_OPTIONS)
        self._where = describe_url(engine.url)
        self._hostname = socket.gethostname()

    # -- opening and closing ---------------------------------------------------------------

    @classmethod
    def open(cls, url: str | URL) -> MetaStore:
        """Open the store at a SQLAlchemy URL, creating or upgrading its schema as needed.

        ``sqlite:///path/meta.db`` or ``postgresql+psycopg://user@host/db``.
        """
        engine = create_meta_engine(url)
        where = describe_url(engine.url)
        try:
            with translate_errors(where, "be opened"):
                ensure_schema(engine, where)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @classmethod
    def for_state_dir(cls, state_dir: Path) -> MetaStore:
        """Open (creating if needed) the SQLite store ``meta.db`` in a state folder."""
        hint = (
            f"make {state_dir} a folder you can write to, or run Sluiceway with another "
            "state folder"
        )
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MetaStoreError(
                f"cannot create the metadata store's folder {state_dir}: {exc.strerror or exc}",
                hint=hint,
            ) from exc
        # SQLite would only say "unable to open database file"; say which folder and why.
        if not os.access(state_dir, os.W_OK | os.X_OK):
            raise MetaStoreError(
                f"cannot write the metadata store in {state_dir}: permission denied", hint=hint
            )
        return cls.open(URL.create("sqlite", database=str(state_dir / DB_FILENAME)))

    @property
    def engine(self) -> Engine:
        """The underlying engine, for the other tables of :mod:`sluiceway.meta`."""
        return self._engine

    def close(self) -> None:
        """Release every connection. The store cannot be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MetaStore({self._where!r})"

    # -- runs ------------------------------------------------------------------------------

    def start_run(
        self,
        run_id: str,
        pipeline: str,
        *,
        trigger: str = "cli",
        config_hash: str | None = None,
        started_at: datetime | None = None,
        details: Mapping[str, Any] | None = None,
        pid: int | None = None,
        hostname: str | None = None,
    ) -> None:
        """Record that a run started; it is ``running`` until :meth:`finish_run`.

        ``pid`` and ``hostname`` default to this process and machine; :meth:`reap_abandoned`
        uses them to notice a run whose process died.
        """
        if not run_id or len(run_id) > _RUN_ID_LENGTH:
            raise ValueError(f"a run id has 1 to {_RUN_ID_LENGTH} characters, got {run_id!r}")
        started = _aware(started_at, "started_at")
        with self._write(f"record the start of run {run_id}") as connection:
            try:
                connection.execute(
                    insert(runs).values(
                        run_id=run_id,
                        pipeline=pipeline,
                        status=RunStatus.RUNNING.value,
                        trigger=trigger,
                        started_at=started,
                        heartbeat_at=started,
                        pid=os.getpid() if pid is None else pid,
                        hostname=self._hostname if hostname is None else hostname,
                        config_hash=config_hash,
                        details=None if details is None else dict(details),
                    )
                )
            except IntegrityError as exc:
                raise MetaStoreError(
                    f"run {run_id} is already recorded in the metadata store at {self._where}",
                    hint="every run needs a new id (sluiceway.core.ids.new_id)",
                ) from exc

    def heartbeat(self, run_id: str) -> None:
        """Record that the run is still alive (the console shows how long ago it was seen)."""
        with self._write(f"record a heartbeat of run {run_id}") as connection:
            self._touch(connection, run_id, utcnow())

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        *,
        rows_in: int,
        rows_out: int,
        rows_rejected: int,
        bytes_in: int = 0,
        error_class: ErrorClass | None = None,
        error_message: str | None = None,
        finished_at: datetime | None = None,
    ) -> None:
        """Record how a run ended: its final status, totals and, if it failed, why."""
        status = RunStatus(status)
        if not status.finished:
            raise ValueError(f"a run finishes as succeeded, failed or cancelled, not {status}")
        finished = _aware(finished_at, "finished_at")
        with self._write(f"record the end of run {run_id}") as connection:
            result = connection.execute(
                update(runs)
                .where(runs.c.run_id == run_id)
                .values(
                    status=status.value,
                    finished_at=finished,
                    heartbeat_at=finished,
                    rows_in=rows_in,
                    rows_out=rows_out,
                    rows_rejected=rows_rejected,
                    bytes_in=bytes_in,
                    error_class=_error_value(error_class),
                    error_message=error_message,
                )
            )
            if result.rowcount == 0:
                raise self._unknown_run(run_id)

    def list_runs(
        self,
        *,
        limit: int | None = 20,
        pipeline: str | None = None,
        status: RunStatus | None = None,
        trigger: str | None = None,
    ) -> list[RunRecord]:
        """The most recent runs, newest first; ``limit=None`` for all of them. ``trigger``
        keeps those started that way (``schedule``, ``cli`` …)."""
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.reap_abandoned()
        query = select(runs).order_by(runs.c.started_at.desc(), runs.c.run_id.desc())
        if pipeline is not None:
            query = query.where(runs.c.pipeline == pipeline)
        if status is not None:
            query = query.where(runs.c.status == RunStatus(status).value)
        if trigger is not None:
            query = query.where(runs.c.trigger == trigger)
        if limit is not None:
            query = query.limit(limit)
        with self._read("list runs") as connection:
            return [RunRecord.from_row(row) for row in connection.execute(query).mappings()]

    def get_run(self, run_id_or_prefix: str) -> RunRecord:
        """One run, by its full id or a unique prefix of at least four characters.

        The prefix is matched case-insensitively, as run ids are ULIDs (Crockford base32).
        Raises :class:`NotFoundError` for an unknown id and for an ambiguous prefix.
        """
        key = run_id_or_prefix.strip()
        self.reap_abandoned()
        with self._read(f"look up run {key!r}") as connection:
            exact = connection.execute(select(runs).where(runs.c.run_id == key)).mappings().first()
            if exact is not None:
                return RunRecord.from_row(exact)
            if len(key) < MIN_PREFIX:
                raise NotFoundError(
                    f"no run has the id {key!r}; a prefix needs at least {MIN_PREFIX} characters",
                    hint=_RUNS_HINT,
                )
            matches = (
                connection.execute(
                    select(runs)
                    .where(func.upper(func.substr(runs.c.run_id, 1, len(key))) == key.upper())
                    .order_by(runs.c.started_at.desc(), runs.c.run_id.desc())
                    .limit(_MAX_CANDIDATES + 1)
                )
                .mappings()
                .all()
            )
        if not matches:
            raise NotFoundError(f"no run has an id starting with {key!r}", hint=_RUNS_HINT)
        if len(matches) > 1:
            shown = [f"{row['run_id']} ({row['pipeline']})" for row in matches[:_MAX_CANDIDATES]]
            more = ", …" if len(matches) > _MAX_CANDIDATES else ""
            raise NotFoundError(
                f"{key!r} is the start of several run ids: {', '.join(shown)}{more}",
                hint="give more characters of the run id",
            )
        return RunRecord.from_row(matches[0])

    def reap_abandoned(self) -> list[str]:
        """Fail the runs of this machine whose process is gone; return their ids.

        A run stays ``running`` if its process is killed (SIGKILL, OOM killer, power cut). Such
        a run, and its running steps, are marked failed with error class ``terminal``, finishing
        at their last sign of life. Runs recorded by other machines are left alone: their
        processes cannot be checked from here.
        """
        with self._read("look for abandoned runs") as connection:
            candidates = connection.execute(
                select(runs.c.run_id, runs.c.pid, runs.c.started_at, runs.c.heartbeat_at).where(
                    runs.c.status.in_(_LIVE),
                    runs.c.hostname == self._hostname,
                    runs.c.pid.is_not(None),
                )
            ).all()
        reaped: list[str] = []
        for run_id, pid, started_at, heartbeat_at in candidates:
            if process_is_alive(pid):
                continue
            if self._mark_abandoned(
                run_id, pid, last_seen=max(started_at, heartbeat_at or started_at)
            ):
                reaped.append(run_id)
        return reaped

    def _mark_abandoned(self, run_id: str, pid: int, *, last_seen: datetime) -> bool:
        message = f"the process running it (pid {pid}) died before it finished"
        failed = {
            "status": RunStatus.FAILED.value,
            "error_class": ErrorClass.TERMINAL.value,
            "error_message": message,
        }
        with self._write(f"mark abandoned run {run_id} failed") as connection:
            # Conditional on the state read above: the run may have finished meanwhile.
            result = connection.execute(
                update(runs)
                .where(
                    runs.c.run_id == run_id,
                    runs.c.status.in_(_LIVE),
                    runs.c.pid == pid,
                )
                .values(finished_at=last_seen, **failed)
            )
            if result.rowcount == 0:
                return False
            seen = literal(last_seen, UTCDateTime())
            connection.execute(
                update(step_runs)
                .where(
                    step_runs.c.run_id == run_id,
                    step_runs.c.status == StepStatus.RUNNING.value,
                )
                .values(
                    # Never before the step started, whatever the clocks did.
                    finished_at=case(
                        (step_runs.c.started_at > seen, step_runs.c.started_at), else_=seen
                    ),
                    **failed,
                )
            )
        return True

    # -- steps -----------------------------------------------------------------------------

    def start_step(
        self,
        run_id: str,
        step: str,
        *,
        kind: str,
        target: str | None = None,
        attempt: int = 1,
    ) -> None:
        """Record that an attempt of a step started; it is ``running`` until finished."""
        now = utcnow()
        with self._write(f"record the start of step {step!r} of run {run_id}") as connection:
            self._touch(connection, run_id, now)
            try:
                connection.execute(
                    insert(step_runs).values(
                        run_id=run_id,
                        step=step,
                        kind=kind,
                        target=target,
                        status=StepStatus.RUNNING.value,
                        attempt=attempt,
                        started_at=now,
                    )
                )
            except IntegrityError as exc:
                raise MetaStoreError(
                    f"attempt {attempt} of step {step!r} of run {run_id} is already recorded",
                    hint="a retry of a step needs the next attempt number",
                ) from exc

    def update_step(
        self,
        run_id: str,
        step: str,
        *,
        attempt: int = 1,
        rows_in: int | None = None,
        rows_out: int | None = None,
        rows_rejected: int | None = None,
        bytes_in: int | None = None,
    ) -> None:
        """Record a running step's progress so far; counters left ``None`` keep their value.

        Also counts as a heartbeat of the run.
        """
        counters = {
            name: value
            for name, value in (
                ("rows_in", rows_in),
                ("rows_out", rows_out),
                ("rows_rejected", rows_rejected),
                ("bytes_in", bytes_in),
            )
            if value is not None
        }
        with self._write(f"record the progress of step {step!r} of run {run_id}") as connection:
            if counters:
                result = connection.execute(
                    update(step_runs).where(*_step_key(run_id, step, attempt)).values(**counters)
                )
                if result.rowcount == 0:
                    raise _unknown_step(run_id, step, attempt)
            self._touch(connection, run_id, utcnow())

    def finish_step(
        self,
        run_id: str,
        step: str,
        status: StepStatus,
        *,
        attempt: int = 1,
        rows_in: int,
        rows_out: int,
        rows_rejected: int,
        bytes_in: int = 0,
        load_id: str | None = None,
        error_class: ErrorClass | None = None,
        error_message: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Record how an attempt of a step ended."""
        status = StepStatus(status)
        if status in _UNFINISHED_STEP:
            raise ValueError(f"a step cannot finish as {status}")
        now = utcnow()
        with self._write(f"record the end of step {step!r} of run {run_id}") as connection:
            result = connection.execute(
                update(step_runs)
                .where(*_step_key(run_id, step, attempt))
                .values(
                    status=status.value,
                    finished_at=now,
                    rows_in=rows_in,
                    rows_out=rows_out,
                    rows_rejected=rows_rejected,
                    bytes_in=bytes_in,
                    load_id=load_id,
                    error_class=_error_value(error_class),
                    error_message=error_message,
                    details=None if details is None else dict(details),
                )
            )
            if result.rowcount == 0:
                raise _unknown_step(run_id, step, attempt)
            self._touch(connection, run_id, now)

    def list_steps(self, run_id: str) -> list[StepRecord]:
        """Every attempt of every step of a run (its full id), in the order they started."""
        self.reap_abandoned()
        with self._read(f"list the steps of run {run_id}") as connection:
            rows = connection.execute(
                select(step_runs)
                .where(step_runs.c.run_id == run_id)
                .order_by(step_runs.c.started_at, step_runs.c.attempt, step_runs.c.step)
            ).mappings()
            steps = [StepRecord.from_row(row) for row in rows]
            if (
                not steps
                and connection.scalar(select(runs.c.run_id).where(runs.c.run_id == run_id)) is None
            ):
                raise self._unknown_run(run_id)
        return steps

    # -- schema versions -------------------------------------------------------------------

    def register_schema_version(
        self,
        warehouse: str,
        table: str,
        *,
        columns: Sequence[Mapping[str, Any]],
        fingerprint: str,
        diff: Mapping[str, Any],
        aliases: Mapping[str, str],
        reason: str,
        pipeline: str | None = None,
        run_id: str | None = None,
        load_id: str | None = None,
        created_at: datetime | None = None,
    ) -> SchemaVersionRecord:
        """Register a table's schema as its next version (1 for a new table) and return it.

        If the latest version has the same ``fingerprint`` and ``aliases``, that version is
        returned and nothing is written, so an idempotent re-run registers nothing. Processes
        registering the same table at once get distinct, consecutive versions.

        ``warehouse`` identifies the warehouse (``duckdb:/abs/path.duckdb``); ``table`` is
        compared case-insensitively and stored lower-cased. ``columns`` (``[{"name", "type",
        "nullable"}, …]``), ``diff`` and ``aliases`` (``{old name: current name}``) must be
        plain JSON data and are stored as given; ``reason`` is ``load``, ``observed`` or
        ``declared``. Misuse raises ``ValueError``.
        """
        new = schema_registry.prepare(
            warehouse,
            table,
            columns=columns,
            fingerprint=fingerprint,
            diff=diff,
            aliases=aliases,
            reason=reason,
            pipeline=pipeline,
            run_id=run_id,
            load_id=load_id,
            created_at=created_at,
        )
        action = f"register a schema version of table {new.table_name}"
        with translate_errors(self._where, action):
            return schema_registry.register(self._writer, new)

    def latest_schema_version(self, warehouse: str, table: str) -> SchemaVersionRecord | None:
        """The newest schema version of a table; ``None`` if it has none."""
        with self._read(f"read the schema of table {table}") as connection:
            return schema_registry.latest(connection, warehouse, table)

    def schema_history(self, warehouse: str, table: str) -> list[SchemaVersionRecord]:
        """Every schema version of a table, oldest first; empty if it has none."""
        with self._read(f"read the schema history of table {table}") as connection:
            return schema_registry.history(connection, warehouse, table)

    def schema_version(self, warehouse: str, table: str, version: int) -> SchemaVersionRecord:
        """One schema version of a table; :class:`NotFoundError` lists the versions it has."""
        with self._read(f"read version {version} of the schema of table {table}") as connection:
            return schema_registry.version(connection, warehouse, table, version, where=self._where)

    def schema_tables(self, warehouse: str | None = None) -> list[SchemaTableRecord]:
        """The tables with a schema history, of one warehouse or all, sorted by warehouse and
        table, each with its latest version and when that was registered."""
        with self._read("list the tables with a schema history") as connection:
            return schema_registry.tables(connection, warehouse)

    # -- quality history -------------------------------------------------------------------

    def record_quality(self, entry: QualityRecord) -> None:
        """Store one checked load (replacing an earlier record of the same load)."""
        if entry.checked_at.tzinfo is None:
            raise ValueError("checked_at must be timezone-aware")
        with self._write(f"record the quality of table {entry.table_name}") as connection:
            quality_history.record(connection, entry)

    def quality_history(
        self,
        warehouse: str,
        table: str,
        *,
        limit: int | None = None,
        committed_only: bool = False,
        with_profile: bool = False,
    ) -> list[QualityRecord]:
        """A table's checked loads, newest first."""
        with self._read(f"read the quality history of table {table}") as connection:
            return quality_history.history(
                connection,
                warehouse,
                table,
                limit=limit,
                committed_only=committed_only,
                with_profile=with_profile,
            )

    def quality_for_run(self, run_id: str) -> list[QualityRecord]:
        """What a run checked, table by table."""
        with self._read(f"read the quality results of run {run_id}") as connection:
            return quality_history.for_run(connection, run_id)

    def quality_tables(self, warehouse: str | None = None) -> list[tuple[str, str]]:
        """(warehouse, table) pairs with a quality history."""
        with self._read("list the tables with a quality history") as connection:
            return quality_history.tables(connection, warehouse)

    def set_live_status(self, run_id: str, status: RunStatus) -> bool:
        """Mark a live run ``running`` or ``paused``; False if it has finished meanwhile."""
        if status not in (RunStatus.RUNNING, RunStatus.PAUSED):
            raise ValueError(f"a live run is running or paused, not {status}")
        with self._write(f"mark run {run_id} {status}") as connection:
            result = connection.execute(
                update(runs)
                .where(runs.c.run_id == run_id, runs.c.status.in_(_LIVE))
                .values(status=status.value, heartbeat_at=utcnow())
            )
        return bool(result.rowcount)

    # -- plumbing --------------------------------------------------------------------------

    @contextmanager
    def transaction(self, action: str) -> Iterator[Connection]:
        """A write transaction for the other tables of :mod:`sluiceway.meta` (breakers, run
        controls): serialized with other writers (SQLite takes its lock at BEGIN)."""
        with self._write(action) as connection:
            yield connection

    @contextmanager
    def reading(self, action: str) -> Iterator[Connection]:
        """A connection for reading the other tables of :mod:`sluiceway.meta`."""
        with self._read(action) as connection:
            yield connection

    @contextmanager
    def _write(self, action: str) -> Iterator[Connection]:
        """A write transaction, committed on success; errors translated."""
        with translate_errors(self._where, action), self._writer.begin() as connection:
            yield connection

    @contextmanager
    def _read(self, action: str) -> Iterator[Connection]:
        """A connection for reading; errors translated."""
        with translate_errors(self._where, action), self._engine.connect() as connection:
            yield connection

    def _touch(self, connection: Connection, run_id: str, now: datetime) -> None:
        result = connection.execute(
            update(runs).where(runs.c.run_id == run_id).values(heartbeat_at=now)
        )
        if result.rowcount == 0:
            raise self._unknown_run(run_id)

    def _unknown_run(self, run_id: str) -> NotFoundError:
        return NotFoundError(
            f"no run {run_id!r} in the metadata store at {self._where}", hint=_RUNS_HINT
        )


def _step_key(run_id: str, step: str, attempt: int) -> tuple[Any, ...]:
    return (
        step_runs.c.run_id == run_id,
        step_runs.c.step == step,
        step_runs.c.attempt == attempt,
    )


def _unknown_step(run_id: str, step: str, attempt: int) -> NotFoundError:
    return NotFoundError(
        f"run {run_id} has no attempt {attempt} of step {step!r}",
        hint=f"run `sluiceway runs {run_id}` to see its steps",
    )


def _aware(value: datetime | None, name: str) -> datetime:
    if value is None:
        return utcnow()
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    return value


def _error_value(error_class: ErrorClass | None) -> str | None:
    return None if error_class is None else ErrorClass(error_class).value
