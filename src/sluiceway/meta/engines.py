"""SQLAlchemy engines for the metadata store, and the translation of their errors.

SQLite gets its settings on every new connection (an event listener, because pragmas are
per-connection):

- ``busy_timeout`` of 10 s, so two Sluiceway processes writing at once wait for each other
  instead of failing with "database is locked";
- ``journal_mode=WAL``, so readers (the console, ``sluiceway runs``) never block the writer;
- ``synchronous=NORMAL``, the usual pairing with WAL: a power cut may lose the last commits but
  never corrupts the file, and a commit stops costing an fsync;
- ``foreign_keys=ON``, which SQLite leaves off by default.

Python's ``sqlite3`` driver (3.11) begins transactions late and never for DDL, which breaks
transactional migrations and makes read-then-write transactions fail under concurrency. So the
driver's own transaction handling is switched off and SQLAlchemy's ``begin`` event emits
``BEGIN`` itself: ``BEGIN IMMEDIATE`` on engines made with :data:`WRITE_OPTIONS`, which takes
the write lock up front (waiting up to the busy timeout) rather than failing half-way through.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from sqlalchemy import create_engine, event, make_url
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError

from sluiceway.core.errors import MetaStoreError

BUSY_TIMEOUT_MS: Final = 10_000

_BEGIN_OPTION: Final = "sluiceway_sqlite_begin"

WRITE_OPTIONS: Final[dict[str, Any]] = {_BEGIN_OPTION: "IMMEDIATE"}
"""Execution options for a write transaction: ``BEGIN IMMEDIATE`` on SQLite, nothing elsewhere."""

_BEGIN_MODES: Final = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})

_DRIVER_HINTS: Final = {
    "postgresql": "install a PostgreSQL driver: pip install 'psycopg[binary]'",
}


def create_meta_engine(url: str | URL) -> Engine:
    """An engine for ``url`` with the metadata store's connection settings.

    Raises :class:`MetaStoreError` when the URL is malformed or its driver is not installed.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise MetaStoreError(
            f"the metadata store URL {str(url)!r} is not a database URL: {exc}",
            hint="use sqlite:///path/to/meta.db or postgresql+psycopg://user@host/db",
        ) from exc
    where = describe_url(parsed)
    backend = parsed.get_backend_name()
    try:
        # pool_pre_ping: a long-running `sluiceway serve` outlives server restarts and idle
        # timeouts; SQLite has no server to lose.
        engine = create_engine(parsed, pool_pre_ping=backend != "sqlite")
    except ImportError as exc:
        raise MetaStoreError(
            f"cannot open the metadata store at {where}: its database driver is missing ({exc})",
            hint=_DRIVER_HINTS.get(backend, f"install the SQLAlchemy driver for {backend}"),
        ) from exc
    except SQLAlchemyError as exc:
        raise MetaStoreError(
            f"cannot open the metadata store at {where}: {exc}",
            hint="check the metadata store URL",
        ) from exc
    if backend == "sqlite":
        _configure_sqlite(engine)
    return engine


def describe_url(url: URL) -> str:
    """Where the store is, for messages: a SQLite file's path, else the URL without password."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return url.render_as_string(hide_password=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # None hands transaction control to the "begin" listener below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first: switching to WAL needs a lock another process may hold.
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        if mode not in _BEGIN_MODES:
            raise ValueError(f"unknown SQLite BEGIN mode {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def translate_errors(where: str, action: str) -> Iterator[None]:
    """Turn SQLAlchemy's errors into :class:`MetaStoreError`, keeping the original as cause.

    ``action`` completes "could not …", e.g. ``"record the start of run 01J…"``.
    """
    try:
        yield
    except SQLAlchemyError as exc:
        raise MetaStoreError(
            f"the metadata store at {where} could not {action}: {_reason(exc)}",
            hint=_hint(exc, where),
        ) from exc


def _reason(exc: SQLAlchemyError) -> str:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return str(exc.orig).strip() or type(exc.orig).__name__
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _hint(exc: SQLAlchemyError, where: str) -> str:
    text = _reason(exc).lower()
    if "locked" in text or "busy" in text:
        return (
            f"another process kept the metadata store busy for more than "
            f"{BUSY_TIMEOUT_MS // 1000} s; retry, and look for a stuck sluiceway process"
        )
    if "unable to open" in text or "readonly" in text or "read-only" in text:
        return f"make sure {where} is in a folder you can write to"
    if isinstance(exc, OperationalError):
        return "check that the metadata store's database is reachable, then retry"
    return "this looks like a bug in Sluiceway; please report it with the message above"
