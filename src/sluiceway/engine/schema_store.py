"""The schema registry, kept in the metadata store (history survives restarts)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sluiceway.core.names import TableRef
from sluiceway.meta.store import MetaStore
from sluiceway.schema.diff import SchemaDiff
from sluiceway.schema.model import TableSchema
from sluiceway.schema.registry import SchemaVersion


class MetaSchemaRegistry:
    """:class:`~sluiceway.schema.registry.SchemaRegistry` over a :class:`MetaStore`."""

    def __init__(self, store: MetaStore) -> None:
        self.store = store

    def history(self, warehouse: str, table: TableRef) -> list[SchemaVersion]:
        return [_version(r) for r in self.store.schema_history(warehouse, str(table))]

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
        record = self.store.register_schema_version(
            warehouse,
            str(table),
            columns=schema.to_dicts(),
            fingerprint=schema.fingerprint,
            diff=diff.to_dict(),
            aliases=dict(aliases),
            reason=reason,
            pipeline=pipeline,
            run_id=run_id,
            load_id=load_id,
        )
        return _version(record)


def _version(record: Any) -> SchemaVersion:
    return SchemaVersion(
        table=record.table_name,
        version=record.version,
        schema=TableSchema.from_dicts(record.columns),
        diff=SchemaDiff.from_dict(record.diff),
        aliases=dict(record.aliases),
        reason=record.reason,
        created_at=record.created_at,
        pipeline=record.pipeline,
        run_id=record.run_id,
        load_id=record.load_id,
    )
