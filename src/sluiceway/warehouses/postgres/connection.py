"""Connections to the PostgreSQL warehouse: a pool, retries, and errors in plain words.

psycopg errors are translated where they enter (never shown raw): a lost connection, a server
shutting down or restarting, a serialization failure or a deadlock is *transient*
(:class:`WarehouseUnavailableError`, retried with backoff); a wrong password or a missing
database is a configuration problem that retrying will not fix. Every message has the
connection string and its password masked out: libpq sometimes quotes them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sluiceway.core.errors import ConfigError, DataError, SluicewayError, WarehouseError
from sluiceway.core.errors import WarehouseUnavailableError as Unavailable
from sluiceway.core.redaction import redact, register_secret
from sluiceway.core.retry import call_with_retry
from sluiceway.warehouses.postgres.spec import PostgresSpec

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

# SQLSTATEs worth another try: the same statement may well succeed in a moment.
TRANSIENT_STATES = frozenset(
    {
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
        "55P03",  # lock_not_available
        "57P01",  # admin_shutdown (pg_terminate_backend, a restart)
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now (starting up, recovering)
        "53300",  # too_many_connections
        "53400",  # configuration_limit_exceeded
        "08000",
        "08001",
        "08003",
        "08004",
        "08006",
        "08007",
    }
)
# Connection failures that no retry mends: by SQLSTATE, and by libpq's words (a failed
# connection attempt carries no SQLSTATE).
_CONFIG_STATES = {
    "28P01": "the password was refused",
    "28000": "the role may not log in (pg_hba.conf or a missing role)",
    "3D000": "the database does not exist",
}
_CONFIG_WORDS = {
    "password authentication failed": "28P01",
    'role "': "28000",
    "no pg_hba.conf entry": "28000",
    'database "': "3D000",
}


def _config_state(exc: BaseException) -> str | None:
    state = getattr(exc, "sqlstate", None)
    if state in _CONFIG_STATES:
        return str(state)
    text = str(exc)
    if state is None and ("does not exist" in text or "authentication failed" in text):
        for words, found in _CONFIG_WORDS.items():
            if words in text:
                return found
    return None


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (a psycopg error, or one translated from it) is worth retrying."""
    if isinstance(exc, SluicewayError):
        return isinstance(exc, Unavailable)
    import psycopg
    from psycopg_pool import PoolTimeout

    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, psycopg.Error):
        return False
    state = exc.sqlstate
    if _config_state(exc) is not None:
        return False
    if state is None:  # no server answer at all: the connection failed or died
        return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
    return state in TRANSIENT_STATES


class Connections:
    """The warehouse's pool of connections, opened on first use of :meth:`open`."""

    def __init__(self, config: PostgresSpec) -> None:
        self.config = config
        self._conninfo = config.connection.get_secret_value()
        # The connection string and its password are masked wherever an error is shown.
        register_secret(self._conninfo)
        self._pool: ConnectionPool[Any] | None = None
        self.where = self._describe()

    def _describe(self) -> str:
        """``host:port/dbname`` for messages (never the user's password)."""
        from psycopg.conninfo import conninfo_to_dict

        try:
            parts = conninfo_to_dict(self._conninfo)
        except Exception:
            return "postgres"
        host = parts.get("host") or "localhost"
        port = parts.get("port") or "5432"
        return f"{host}:{port}/{parts.get('dbname') or ''}"

    def _kwargs(self) -> dict[str, Any]:
        # Sessions run in UTC, as DuckDB's do: periods, partitions and text forms of zoned
        # timestamps come out the same whatever the server's zone.
        settings = ["-c TimeZone=UTC"]
        given = self._given_options()
        if given:  # the user's own `options` in the URL come first; ours win on conflict
            settings.insert(0, given)
        timeout = self.config.statement_timeout
        if timeout is not None:
            settings.append(f"-c statement_timeout={int(timeout.total_seconds() * 1000)}")
        return {
            "connect_timeout": max(1, int(self.config.connect_timeout.total_seconds())),
            "application_name": self.config.application_name,
            "options": " ".join(settings),
        }

    def _given_options(self) -> str | None:
        from psycopg.conninfo import conninfo_to_dict

        try:
            options = conninfo_to_dict(self._conninfo).get("options")
        except Exception:
            return None
        return str(options) if options else None

    def open(self) -> None:
        """Connect once (retrying transient failures) so a wrong URL fails now, with libpq's
        reason; then start the pool."""
        import psycopg
        from psycopg_pool import ConnectionPool

        try:
            conninfo = psycopg.conninfo.make_conninfo(self._conninfo)
        except psycopg.ProgrammingError:
            raise ConfigError(
                "the warehouse `connection` is not a valid PostgreSQL connection string "
                "(libpq's message is not shown: it may quote the password)",
                hint="Write a URL (postgresql://user:password@host:5432/dbname) or keywords "
                "(host=db port=5432 dbname=analytics user=loader password=...).",
            ) from None

        def probe() -> None:
            with self.translated("connecting"):
                psycopg.connect(conninfo, **self._kwargs()).close()

        call_with_retry(probe, policy=self.config.retry.policy(), retryable=is_transient)
        pool = self.config.pool
        self._pool = ConnectionPool(
            conninfo,
            min_size=min(pool.min_size, pool.max_size),
            max_size=pool.max_size,
            timeout=pool.timeout.total_seconds(),
            max_idle=pool.max_idle.total_seconds(),
            max_lifetime=pool.max_lifetime.total_seconds(),
            kwargs=self._kwargs(),
            check=ConnectionPool.check_connection,
            name="sluiceway-warehouse",
            open=False,
        )
        self._pool.open(wait=False)

    def dedicated(self, application_name: str) -> psycopg.Connection[Any]:
        """A connection outside the pool (autocommit), for a session-long lock."""
        import psycopg

        options = {**self._kwargs(), "application_name": application_name[:63]}
        with self.translated("connecting"):
            conn: psycopg.Connection[Any] = psycopg.connect(
                self._conninfo, autocommit=True, **options
            )
        return conn

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    @property
    def pool(self) -> ConnectionPool[Any]:
        if self._pool is None:
            raise WarehouseError("the warehouse is not open")
        return self._pool

    def take(self) -> psycopg.Connection[Any]:
        """A connection of the pool's (checked alive), in transaction mode whatever its last
        user left (the reader of :meth:`sql_runner` runs in autocommit); hand it back with
        :meth:`give_back`."""
        with self.translated("waiting for a connection"):
            conn: psycopg.Connection[Any] = self.pool.getconn()
            conn.autocommit = False
        return conn

    def give_back(self, conn: psycopg.Connection[Any]) -> None:
        with contextlib.suppress(Exception):
            if not conn.closed and conn.info.transaction_status != 0:  # not idle
                conn.rollback()
        with contextlib.suppress(Exception):
            self.pool.putconn(conn)

    @contextlib.contextmanager
    def connection(self, doing: str = "running a statement") -> Iterator[psycopg.Connection[Any]]:
        """A connection for one unit of work, committed on success, rolled back on error."""
        conn = self.take()
        try:
            with self.translated(doing):
                yield conn
                conn.commit()
        finally:
            self.give_back(conn)

    def run(self, work: Any, what: str) -> Any:
        """``work(conn)`` in its own transaction, retried (whole) on transient failures."""

        def attempt() -> Any:
            with self.connection(what) as conn:
                return work(conn)

        return call_with_retry(attempt, policy=self.config.retry.policy(), retryable=is_transient)

    @contextlib.contextmanager
    def translated(self, doing: str) -> Iterator[None]:
        """psycopg errors raised inside as Sluiceway errors, secrets masked."""
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            yield
        except SluicewayError as exc:
            exc.message = redact(exc.message)
            exc.args = (exc.message,)
            raise
        except PoolTimeout as exc:
            raise Unavailable(
                f"no free connection to the warehouse {self.where} while {doing} "
                f"(pool of {self.config.pool.max_size}, waited "
                f"{self.config.pool.timeout.total_seconds():g}s)",
                hint="Raise `pool.max_size`, or check the server is up.",
            ) from exc
        except psycopg.Error as exc:
            raise self.translate(exc, doing) from None

    def translate(self, exc: BaseException, doing: str) -> SluicewayError:

        text = redact(_first_line(str(exc)))
        state = getattr(exc, "sqlstate", None)
        refused = _config_state(exc)
        if refused is not None:
            return ConfigError(
                f"cannot connect to the warehouse {self.where}: {_CONFIG_STATES[refused]} ({text})",
                hint="Check the warehouse `connection` (user, password, database).",
            )
        if is_transient(exc):
            return Unavailable(
                f"the warehouse {self.where} is unavailable while {doing}: {text}",
                hint="Retried with backoff; check the server if it persists.",
            )
        if state == "22021" and "0x00" in text:
            return DataError(
                f"{doing} failed: PostgreSQL text cannot hold the NUL character (\\x00), and "
                f"a value has one ({text})",
                hint="Remove it on the way in (a `clean:` step replacing '\\x00'), or load "
                "the column as binary.",
            )
        if state == "57014":
            return WarehouseError(
                f"a statement ran into `statement_timeout` while {doing} on {self.where}: {text}",
                hint="Raise the warehouse's `statement_timeout`, or make the step smaller.",
            )
        return WarehouseError(f"{doing} failed on {self.where}: {text}")


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[:2]) if lines else "unknown error"
