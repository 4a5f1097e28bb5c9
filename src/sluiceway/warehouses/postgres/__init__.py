"""The PostgreSQL warehouse."""

from sluiceway.warehouses.postgres.spec import PostgresSpec
from sluiceway.warehouses.postgres.warehouse import PostgresWarehouse

__all__ = ["PostgresSpec", "PostgresWarehouse"]
