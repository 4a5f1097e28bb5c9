"""The schema registry's storage: numbered versions of every table's schema, per warehouse.

:class:`~sluiceway.meta.store.MetaStore` exposes these as its ``*schema*`` methods; this module
holds the queries. It stores what :mod:`sluiceway.schema` computes (columns, fingerprint, diff,
aliases) as JSON without interpreting it, so the metadata store never imports the schema logic.

Versions of a table are numbered 1, 2, 3… with no gaps. The next number is read and written in
one write transaction, which is serialised per table: SQLite's ``BEGIN IMMEDIATE`` takes the
database's write lock, and on PostgreSQL a transaction-scoped advisory lock on the table does the
same. Should a writer that skips the lock (another tool, an older release) take the number
first, the primary key refuses the duplicate and the registration is retried with the next one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Integer, and_, cast, func, insert, literal, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from sluiceway.core.clock import utcnow
from sluiceway.core.errors import NotFoundError
from sluiceway.meta.records import SchemaTableRecord, SchemaVersionRecord
from sluiceway.meta.tables import schema_versions

REASONS: Final = frozenset({"load", "observed", "declared"})
"""Why a version was registered: a load wrote it, it was observed in the warehouse, or declared."""

_ATTEMPTS: Final = 5
# The first of the two 32-bit keys of PostgreSQL's per-table advisory locks ("sluc"); the
# two-key form never collides with the one-key lock that serialises migrations.
_PG_LOCK_SPACE: Final = 0x736C7563

_versions = schema_versions.c


@dataclass(frozen=True, slots=True)
class NewSchemaVersion:
    """A version to register, checked and normalised to plain JSON data; see :func:`prepare`."""

    warehouse: str
    table_name: str
    fingerprint: str
    columns: list[dict[str, Any]]
    diff: dict[str, Any]
    aliases: dict[str, str]
    reason: str
    pipeline: str | None
    run_id: str | None
    load_id: str | None
    created_at: datetime

    def record(self, version: int) -> SchemaVersionRecord:
        return SchemaVersionRecord(
            warehouse=self.warehouse,
            table_name=self.table_name,
            version=version,
            fingerprint=self.fingerprint,
            columns=self.columns,
            diff=self.diff,
            aliases=self.aliases,
            reason=self.reason,
            pipeline=self.pipeline,
            run_id=self.run_id,
            load_id=self.load_id,
            created_at=self.created_at,
        )


def table_key(table: str) -> str:
    """How a table name is stored and compared: trimmed and lower-cased, as SQL compares it."""
    key = table.strip().lower()
    if not key:
        raise ValueError("a table name is required, got an empty one")
    return key


def prepare(
    warehouse: str,
    table: str,
    *,
    columns: Sequence[Mapping[str, Any]],
    fingerprint: str,
    diff: Mapping[str, Any],
    aliases: Mapping[str, str],
    reason: str,
    pipeline: str | None,
    run_id: str | None,
    load_id: str | None,
    created_at: datetime | None,
) -> NewSchemaVersion:
    """Check a version's fields and copy them as plain JSON data; ``ValueError`` on misuse.

    The copy is what a later read hands back, so the record :func:`register` returns equals
    the one :func:`history` returns for the same version.
    """
    if not warehouse:
        raise ValueError("a warehouse id is required, got an empty one")
    if not fingerprint:
        raise ValueError("a schema fingerprint is required, got an empty one")
    if reason not in REASONS:
        raise ValueError(f"reason must be one of {', '.join(sorted(REASONS))}, got {reason!r}")
    if created_at is None:
        created_at = utcnow()
    elif created_at.tzinfo is None or created_at.utcoffset() is None:
        raise ValueError(f"created_at must be timezone-aware, got {created_at!r}")
    plain_columns = _plain("columns", list(columns))
    for position, column in enumerate(plain_columns, start=1):
        _check_column(position, column)
    plain_aliases = _plain("aliases", dict(aliases))
    if not all(isinstance(new, str) for new in plain_aliases.values()):
        raise ValueError(f"aliases map old column names to new names, got {plain_aliases!r}")
    return NewSchemaVersion(
        warehouse=warehouse,
        table_name=table_key(table),
        fingerprint=fingerprint,
        columns=plain_columns,
        diff=_plain("diff", dict(diff)),
        aliases=dict(sorted(plain_aliases.items())),
        reason=reason,
        pipeline=pipeline,
        run_id=run_id,
        load_id=load_id,
        created_at=created_at.astimezone(UTC),
    )


def register(writer: Engine, new: NewSchemaVersion) -> SchemaVersionRecord:
    """Store ``new`` as the table's next version, or return the latest if it is the same.

    "The same" means the same fingerprint and the same aliases: re-running a load that changes
    nothing registers nothing. ``writer`` must begin write transactions (``WRITE_OPTIONS``).
    SQLAlchemy errors propagate; the caller translates them.
    """
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            with writer.begin() as connection:
                _lock_table(connection, new.warehouse, new.table_name)
                latest = _latest_row(connection, new.warehouse, new.table_name)
                if latest is not None and _unchanged(latest, new):
                    return latest
                record = new.record(1 if latest is None else latest.version + 1)
                connection.execute(insert(schema_versions).values(_row(record)))
                return record
        except IntegrityError:
            # Another writer took this version number without the lock; take the next one.
            if attempt == _ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def latest(connection: Connection, warehouse: str, table: str) -> SchemaVersionRecord | None:
    """The table's newest version; ``None`` for a table never registered."""
    return _latest_row(connection, warehouse, table_key(table))


def history(connection: Connection, warehouse: str, table: str) -> list[SchemaVersionRecord]:
    """Every version of the table, oldest first; empty for a table never registered."""
    rows = connection.execute(
        select(schema_versions)
        .where(_versions.warehouse == warehouse, _versions.table_name == table_key(table))
        .order_by(_versions.version)
    ).mappings()
    return [SchemaVersionRecord.from_row(row) for row in rows]


def version(
    connection: Connection, warehouse: str, table: str, number: int, *, where: str
) -> SchemaVersionRecord:
    """One version of the table; :class:`NotFoundError` says which versions exist."""
    key = table_key(table)
    row = (
        connection.execute(
            select(schema_versions).where(
                _versions.warehouse == warehouse,
                _versions.table_name == key,
                _versions.version == number,
            )
        )
        .mappings()
        .first()
    )
    if row is not None:
        return SchemaVersionRecord.from_row(row)
    numbers = list(
        connection.scalars(
            select(_versions.version)
            .where(_versions.warehouse == warehouse, _versions.table_name == key)
            .order_by(_versions.version)
        )
    )
    if not numbers:
        raise NotFoundError(
            f"no schema is registered for table {key} of warehouse {warehouse} "
            f"in the metadata store at {where}",
            hint="run `sluiceway schema list` to see the tables with a schema history; "
            "a table gets one when a pipeline loads it",
        )
    raise NotFoundError(
        f"table {key} of warehouse {warehouse} has no schema version {number}; "
        f"its versions are {describe_numbers(numbers)}",
        hint=f"run `sluiceway schema history {key}` to see what each version changed",
    )


def tables(connection: Connection, warehouse: str | None = None) -> list[SchemaTableRecord]:
    """Every table with a schema history (of one warehouse, if given), sorted by warehouse
    and table, with its latest version and when that was registered."""
    newest = select(
        _versions.warehouse,
        _versions.table_name,
        func.max(_versions.version).label("latest_version"),
    ).group_by(_versions.warehouse, _versions.table_name)
    if warehouse is not None:
        newest = newest.where(_versions.warehouse == warehouse)
    subquery = newest.subquery()
    query = (
        select(
            _versions.warehouse,
            _versions.table_name,
            _versions.version,
            _versions.created_at,
        )
        .join(
            subquery,
            and_(
                _versions.warehouse == subquery.c.warehouse,
                _versions.table_name == subquery.c.table_name,
                _versions.version == subquery.c.latest_version,
            ),
        )
        .order_by(_versions.warehouse, _versions.table_name)
    )
    return [
        SchemaTableRecord(
            warehouse=row.warehouse,
            table_name=row.table_name,
            latest_version=row.version,
            updated_at=row.created_at,
        )
        for row in connection.execute(query)
    ]


def describe_numbers(numbers: Sequence[int]) -> str:
    """``1 to 40`` for a run of versions, else ``1, 2, 5 to 9``; ``numbers`` sorted."""
    spans: list[tuple[int, int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], number)
        else:
            spans.append((number, number))
    parts: list[str] = []
    for first, last in spans:
        if last - first >= 2:
            parts.append(f"{first} to {last}")
        else:
            parts.extend(str(number) for number in range(first, last + 1))
    return ", ".join(parts)


def _latest_row(connection: Connection, warehouse: str, key: str) -> SchemaVersionRecord | None:
    row = (
        connection.execute(
            select(schema_versions)
            .where(_versions.warehouse == warehouse, _versions.table_name == key)
            .order_by(_versions.version.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return None if row is None else SchemaVersionRecord.from_row(row)


def _lock_table(connection: Connection, warehouse: str, key: str) -> None:
    """Serialise registrations for one table (SQLite's write lock already serialises all)."""
    if connection.dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(f"{warehouse}\0{key}".encode(), digest_size=4).digest()
    table_lock = int.from_bytes(digest, "big", signed=True)
    connection.execute(
        select(
            func.pg_advisory_xact_lock(
                cast(literal(_PG_LOCK_SPACE), Integer), cast(literal(table_lock), Integer)
            )
        )
    )


def _unchanged(latest: SchemaVersionRecord, new: NewSchemaVersion) -> bool:
    return latest.fingerprint == new.fingerprint and latest.aliases == new.aliases


def _row(record: SchemaVersionRecord) -> dict[str, Any]:
    return {
        "warehouse": record.warehouse,
        "table_name": record.table_name,
        "version": record.version,
        "fingerprint": record.fingerprint,
        "columns": record.columns,
        "diff": record.diff,
        "aliases": record.aliases,
        "reason": record.reason,
        "pipeline": record.pipeline,
        "run_id": record.run_id,
        "load_id": record.load_id,
        "created_at": record.created_at,
    }


def _plain(name: str, value: Any) -> Any:
    """A deep copy through JSON: what the database will hand back (tuples become lists)."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be plain JSON data (no NaN): {exc}") from exc


def _check_column(position: int, column: Any) -> None:
    if not (
        isinstance(column, dict)
        and isinstance(column.get("name"), str)
        and column["name"]
        and isinstance(column.get("type"), str)
        and isinstance(column.get("nullable"), bool)
    ):
        raise ValueError(
            f"column {position} must be {{'name': str, 'type': str, 'nullable': bool}}, "
            f"got {column!r}"
        )
