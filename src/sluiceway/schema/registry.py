"""Where table schema versions are kept: the interface the engine uses, and a memory-only one.

The metadata store implements it for real runs (history survives restarts and is shared by
every command of a project); :class:`InMemorySchemaRegistry` serves tests and embedding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sluiceway.core.clock import utcnow
from sluiceway.core.names import TableRef
from sluiceway.schema.contract import RegisteredSchema
from sluiceway.schema.diff import SchemaDiff
from sluiceway.schema.model import TableSchema


@dataclass(frozen=True, slots=True)
class SchemaVersion:
    table: str
    version: int
    schema: TableSchema
    diff: SchemaDiff
    aliases: Mapping[str, str]
    reason: str  # load | observed | declared
    created_at: datetime
    pipeline: str | None = None
    run_id: str | None = None
    load_id: str | None = None

    @property
    def fingerprint(self) -> str:
        return self.schema.fingerprint


class SchemaRegistry(Protocol):
    def history(self, warehouse: str, table: TableRef) -> list[SchemaVersion]:
        """Every version of the table, oldest first (empty for an unknown table)."""

    def record(
        self,
        warehouse: str,
        table: TableRef,
        *,
        schema: TableSchema,
        diff: SchemaDiff,
        aliases: Mapping[str, str],
        reason: str,
        pipeline: str | None = None,
        run_id: str | None = None,
        load_id: str | None = None,
    ) -> SchemaVersion:
        """Register ``schema`` as the next version (the latest, if nothing changed)."""


def registered(registry: SchemaRegistry, warehouse: str, table: TableRef) -> RegisteredSchema:
    """What the contract needs from the registry: the versions and the aliases of renames."""
    versions = registry.history(warehouse, table)
    aliases = dict(versions[-1].aliases) if versions else {}
    return RegisteredSchema(
        versions=tuple((v.version, v.schema) for v in versions), aliases=aliases
    )


@dataclass
class InMemorySchemaRegistry:
    versions: dict[tuple[str, str], list[SchemaVersion]] = field(default_factory=dict)

    def history(self, warehouse: str, table: TableRef) -> list[SchemaVersion]:
        return list(self.versions.get((warehouse, str(table).lower()), []))

    def record(
        self,
        warehouse: str,
        table: TableRef,
        *,
        schema: TableSchema,
        diff: SchemaDiff,
        aliases: Mapping[str, str],
        reason: str,
        pipeline: str | None = None,
        run_id: str | None = None,
        load_id: str | None = None,
    ) -> SchemaVersion:
        key = (warehouse, str(table).lower())
        versions = self.versions.setdefault(key, [])
        if (
            versions
            and versions[-1].fingerprint == schema.fingerprint
            and dict(versions[-1].aliases) == dict(aliases)
        ):
            return versions[-1]
        version = SchemaVersion(
            table=key[1],
            version=len(versions) + 1,
            schema=schema,
            diff=diff,
            aliases=dict(aliases),
            reason=reason,
            created_at=utcnow(),
            pipeline=pipeline,
            run_id=run_id,
            load_id=load_id,
        )
        versions.append(version)
        return version
