"""psycopg errors met while decoding the log, translated into Sluiceway's error tree.

Translated where they enter, as the conventions ask: the original stays as ``__cause__``. What a
retry can fix (the server is down or restarting, another process holds the slot, wal_level is not
``logical`` yet) is :class:`SourceUnavailableError`; what only a person can fix (the plugin is not
installed or not allowed, the role lacks the REPLICATION attribute, the slot does not exist) is
:class:`ConfigError`.
"""

from __future__ import annotations

from typing import Any

import psycopg

from sluiceway.core.errors import (
    ConfigError,
    SluicewayError,
    SourceError,
    SourceUnavailableError,
)

WAL_LEVEL_HINT = (
    "Logical decoding needs wal_level = logical on the source server: run "
    "ALTER SYSTEM SET wal_level = logical (as a superuser) and restart PostgreSQL; "
    "max_replication_slots must also be above 0."
)


def server_label(conn: psycopg.Connection[Any]) -> str:
    """``host:port/dbname`` of a connection, for messages (never the password)."""
    info = conn.info
    host = info.host or "localhost"
    return f"{host}:{info.port}/{info.dbname}"


def plugin_install_hint(conn: psycopg.Connection[Any], plugin: str) -> str:
    """How to get ``plugin`` onto the server this connection talks to."""
    major = conn.info.server_version // 10000
    if plugin == "wal2json":
        return (
            f"Install wal2json for PostgreSQL {major} on the database server "
            f"(Debian/Ubuntu: apt-get install postgresql-{major}-wal2json; RPM: wal2json_{major}); "
            "no restart is needed."
        )
    return f"Install the output plugin {plugin!r} into the server's library directory."


def _message(exc: psycopg.Error) -> str:
    diag = exc.diag.message_primary
    return diag if diag else " ".join(str(exc).split())


def translate(
    exc: psycopg.Error,
    conn: psycopg.Connection[Any] | None,
    *,
    doing: str,
    slot: str | None = None,
    plugin: str = "wal2json",
) -> SluicewayError:
    """The Sluiceway error for ``exc``, raised while ``doing`` (a phrase: "reading slot 'x'")."""
    state = exc.sqlstate or ""
    message = _message(exc)
    where = f" on {server_label(conn)}" if conn is not None and not conn.closed else ""
    text = f"{doing}{where} failed: {message}"
    if state == "55000" and "wal_level" in message:
        return SourceUnavailableError(text, hint=WAL_LEVEL_HINT)
    if state == "55006":
        return SourceUnavailableError(
            text,
            hint="Another process is reading this replication slot; one slot serves one "
            "consumer. Wait for it to finish, or give each pipeline a slot of its own.",
        )
    if state == "42501" and "output plugin" in message:
        return ConfigError(
            text,
            hint=f"The server only lets listed libraries act as output plugins: add {plugin!r} "
            "to output_plugin_libraries in postgresql.conf and reload the server.",
        )
    if state == "42501":
        return ConfigError(
            text,
            hint="Logical decoding needs a role with the REPLICATION attribute "
            "(ALTER ROLE <name> REPLICATION) or a superuser.",
        )
    if state == "58P01" and conn is not None and not conn.closed:
        return ConfigError(text, hint=plugin_install_hint(conn, plugin))
    if state == "42704" and slot is not None:
        return ConfigError(
            text,
            hint=f"Create the slot first with ensure_slot(conn, {slot!r}); it lives in one "
            "database, so connect to the database it was created in.",
        )
    if state == "53400":
        return ConfigError(
            text,
            hint="Every replication slot is taken: drop unused slots "
            "(SELECT pg_drop_replication_slot(name)) or raise max_replication_slots.",
        )
    if state == "22023":
        return ConfigError(
            text,
            hint="The output plugin refused an option Sluiceway passes; wal2json 2.0 or newer "
            "is needed (format-version 2).",
        )
    if isinstance(exc, psycopg.OperationalError) or state[:2] in {"08", "57", "53"}:
        return SourceUnavailableError(
            text, hint="Check that the server is running and reachable, then retry."
        )
    return SourceError(text)
