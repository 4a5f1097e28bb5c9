"""The metadata store: runs, step runs and schema versions, in SQLite (WAL) or PostgreSQL."""

from sluiceway.meta.records import RunRecord, SchemaTableRecord, SchemaVersionRecord, StepRecord
from sluiceway.meta.store import MetaStore

__all__ = ["MetaStore", "RunRecord", "SchemaTableRecord", "SchemaVersionRecord", "StepRecord"]
