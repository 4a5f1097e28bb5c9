"""The metadata store: runs and step runs, in SQLite (WAL) or PostgreSQL."""

from sluiceway.meta.records import RunRecord, StepRecord
from sluiceway.meta.store import MetaStore

__all__ = ["MetaStore", "RunRecord", "StepRecord"]
