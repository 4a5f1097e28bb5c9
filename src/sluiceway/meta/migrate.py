"""Bring a metadata store's schema to the revision this code expects.

The schema is versioned with alembic, whose script directory ships inside the package
(``migrations/``) and runs programmatically, without an ``alembic.ini``. An empty database is
created straight from ``tables.py`` and stamped at head (the same schema; a test compares them).

Importing alembic costs most of a second and a store opens on every CLI command, so
:func:`ensure_schema` first reads ``alembic_version`` with plain SQLAlchemy and only imports
alembic when the database is not at :data:`HEAD_REVISION`. A unit test pins that constant to
alembic's own head: add a migration, bump it.

Upgrades are serialised between processes (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on
PostgreSQL) and re-read the revision under the lock, so two commands opening a fresh store at
the same moment migrate it once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import Column, MetaData, String, Table, func, inspect, select

from sluiceway.core.errors import MetaStoreError
from sluiceway.meta.engines import WRITE_OPTIONS

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection, Engine

HEAD_REVISION: Final = "0006"
"""The newest schema revision this code knows; equal to the head of ``migrations/versions``."""

MIGRATIONS_DIR: Final = Path(__file__).resolve().with_name("migrations")

VERSION_TABLE: Final = "alembic_version"

# Any constant works as long as nothing else on the server uses it; this one spells "sluice".
_PG_MIGRATION_LOCK: Final = 0x736C75696365

_version = Table(
    VERSION_TABLE,
    MetaData(),
    Column("version_num", String(32), primary_key=True),
)


def schema_revisions(connection: Connection) -> frozenset[str]:
    """The revisions recorded in the database; empty for a database never migrated."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return frozenset()
    return frozenset(connection.scalars(select(_version.c.version_num)))


def ensure_schema(engine: Engine, where: str) -> None:
    """Upgrade the database behind ``engine`` to :data:`HEAD_REVISION` if it is not there.

    Raises :class:`MetaStoreError` when the database was created by a newer Sluiceway (its
    revision is unknown here) or a migration fails. SQLAlchemy errors propagate untranslated.
    """
    with engine.connect() as connection:
        revisions = schema_revisions(connection)
        if revisions == {HEAD_REVISION}:
            return
        fresh = not revisions and not inspect(connection).get_table_names()
    if fresh and _create_fresh(engine):
        return
    _upgrade(engine, where)


def _create_fresh(engine: Engine) -> bool:
    """An empty database gets the head schema from ``tables.py`` and is stamped at head.

    Replaying every migration through alembic is only needed for a database that has some of
    them; for an empty one this is the same schema (a test compares the two) without alembic's
    import cost on a project's first command. Returns False if another process got there
    first, or if the database turned out not to be empty under the lock.
    """
    from sluiceway.meta.tables import metadata

    with engine.connect() as connection:
        connection.execution_options(**WRITE_OPTIONS)
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
            # Re-read under the lock: another process may have created the schema meanwhile.
            if schema_revisions(connection) or inspect(connection).get_table_names():
                return False
            metadata.create_all(connection)
            _version.create(connection)
            connection.execute(_version.insert().values(version_num=HEAD_REVISION))
    return True


def alembic_config(url: str | None = None) -> Config:
    """An alembic ``Config`` for the bundled migrations; ``url`` for alembic's own commands."""
    from alembic.config import Config

    config = Config()
    # The config is configparser-backed, where "%" starts an interpolation.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade(engine: Engine, where: str) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    config = alembic_config()
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    dialect = engine.dialect.name
    with engine.connect() as connection:
        if dialect == "sqlite":
            # Batch migrations rebuild a table by dropping it, and with foreign keys on that
            # drop would cascade into its children.
            _outside_transaction(connection, "PRAGMA foreign_keys = OFF")
        try:
            connection.execution_options(**WRITE_OPTIONS)
            with connection.begin():
                if dialect == "postgresql":
                    connection.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
                # Re-read under the lock: another process may have migrated meanwhile.
                revisions = schema_revisions(connection)
                newer = sorted(revisions - known)
                if newer:
                    raise MetaStoreError(
                        f"the metadata store at {where} was created by a newer Sluiceway "
                        f"(schema revision {', '.join(newer)}; this version knows up to "
                        f"{HEAD_REVISION})",
                        hint="upgrade Sluiceway (pip install -U sluiceway) to use this store",
                    )
                if revisions == {HEAD_REVISION}:
                    return
                config.attributes["connection"] = connection
                try:
                    command.upgrade(config, "head")
                except CommandError as exc:
                    raise MetaStoreError(
                        f"cannot migrate the metadata store at {where}: {exc}",
                        hint="this looks like a bug in Sluiceway; please report it",
                    ) from exc
                if dialect == "sqlite":
                    _check_foreign_keys(connection, where)
        finally:
            if dialect == "sqlite":
                _outside_transaction(connection, "PRAGMA foreign_keys = ON")


def _outside_transaction(connection: Connection, pragma: str) -> None:
    # Through the driver: SQLAlchemy would BEGIN first, and these pragmas are no-ops in a
    # transaction. The driver's own transaction handling is off (see engines.py).
    driver_connection = connection.connection.driver_connection
    if driver_connection is None:
        raise RuntimeError("the connection to the metadata store was closed")
    driver_connection.execute(pragma)


def _check_foreign_keys(connection: Connection, where: str) -> None:
    # With foreign keys off during the upgrade, nothing stopped a migration from orphaning
    # rows; refuse to commit one that did.
    violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if violations:
        tables = sorted({str(row[0]) for row in violations})
        raise MetaStoreError(
            f"migrating the metadata store at {where} left rows pointing at missing parents "
            f"in {', '.join(tables)}; nothing was changed",
            hint="this looks like a bug in Sluiceway; please report it",
        )
