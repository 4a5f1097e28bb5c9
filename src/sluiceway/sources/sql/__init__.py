"""Database tables and queries as sources: PostgreSQL (``postgres``) and MySQL / MariaDB
(``mysql``), streamed through server-side cursors into Arrow batches."""

from sluiceway.sources.sql.catalog import ColumnInfo, ForeignKey, TableInfo
from sluiceway.sources.sql.mysql import MySqlSource
from sluiceway.sources.sql.postgres import PostgresSource
from sluiceway.sources.sql.spec import MySqlSpec, PostgresSpec, SqlSourceSpec

__all__ = [
    "ColumnInfo",
    "ForeignKey",
    "MySqlSource",
    "MySqlSpec",
    "PostgresSource",
    "PostgresSpec",
    "SqlSourceSpec",
    "TableInfo",
]
