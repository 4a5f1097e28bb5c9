"""PostgreSQL log-based change data capture: a table's inserts, updates and deletes."""

from sluiceway.sources.postgres_cdc.source import PostgresCdcSource
from sluiceway.sources.postgres_cdc.spec import PostgresCdcSpec

__all__ = ["PostgresCdcSource", "PostgresCdcSpec"]
