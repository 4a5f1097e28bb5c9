"""Alembic's environment for the metadata store's migrations.

Sluiceway runs these migrations itself when a store opens (see :mod:`sluiceway.meta.migrate`):
it passes an open connection, already inside a locked transaction, in
``config.attributes["connection"]``, so the whole upgrade commits or rolls back as one.

To write a new migration, add ``versions/000N_what_it_does.py`` whose ``down_revision`` is the
current head, then bump ``HEAD_REVISION`` in ``migrate.py``. Alembic can draft the file by
comparing a database at the current head with ``sluiceway.meta.tables``::

    from alembic import command
    from sluiceway.meta.migrate import alembic_config

    command.revision(alembic_config("sqlite:///scratch.db"), "add events", autogenerate=True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from alembic import context
from sqlalchemy.engine import Connection

from sluiceway.meta.engines import create_meta_engine
from sluiceway.meta.tables import JSONDocument, UTCDateTime, metadata

if TYPE_CHECKING:
    from alembic.autogenerate.api import AutogenContext


def _render_item(kind: str, obj: object, autogen: AutogenContext) -> str | Literal[False]:
    """Draft migrations with plain SQLAlchemy types, not the ones in ``tables.py``.

    A migration must keep working when ``tables.py`` changes, so it must not import it.
    """
    if kind != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, JSONDocument):
        autogen.imports.add("from sqlalchemy.dialects import postgresql")
        return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
    return False


def _run_online(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        # `alembic upgrade --sql`: print the DDL instead of running it.
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run_online(connection)
        return
    if not url:
        raise RuntimeError(
            "no database for the metadata store's migrations: pass a connection in "
            "config.attributes['connection'] or set sqlalchemy.url"
        )
    engine = create_meta_engine(url)
    try:
        with engine.connect() as owned:
            _run_online(owned)
            owned.commit()
    finally:
        engine.dispose()


_main()
