"""The ``postgres`` warehouse's configuration.

.. code-block:: yaml

    warehouse:
      type: postgres
      connection: ${WAREHOUSE_URL}     # postgresql://loader:...@db:5432/analytics
      default_schema: public
      pool: {min_size: 1, max_size: 4, timeout: 30s}
      statement_timeout: 30m
      retry: {attempts: 5, base_delay: 500ms, max_delay: 30s}
      index_strategy: rebuild
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from sluiceway.spec.execution import RetrySpec as BaseRetrySpec
from sluiceway.spec.execution import to_timedelta
from sluiceway.spec.models import WarehouseSpec
from sluiceway.spec.models_base import StrictModel

_duration = to_timedelta


class PoolSpec(StrictModel):
    """The connection pool (psycopg_pool): connections are checked before use and replaced when
    broken."""

    min_size: int = Field(1, ge=0, description="Connections kept open.")
    max_size: int = Field(4, ge=1, description="Connections at most (parallel loads, queries).")
    timeout: timedelta = Field(
        timedelta(seconds=30), description="How long to wait for a free connection, e.g. `30s`."
    )
    max_idle: timedelta = Field(
        timedelta(minutes=10), description="An idle connection above `min_size` is closed after."
    )
    max_lifetime: timedelta = Field(
        timedelta(hours=1), description="A connection is replaced after (server-side leaks)."
    )

    _durations = field_validator("timeout", "max_idle", "max_lifetime", mode="before")(
        staticmethod(_duration)
    )


class RetrySpec(BaseRetrySpec):
    """Retries of transient failures (connection lost, server restarting, serialization
    failure, deadlock): exponential backoff with full jitter."""

    attempts: int = Field(5, ge=1, description="Tries in all, the first included.")
    base_delay: timedelta = Field(
        timedelta(milliseconds=500), description="The cap of the first delay, e.g. `500ms`."
    )
    max_delay: timedelta = Field(timedelta(seconds=30), description="No delay is longer.")


class PostgresSpec(WarehouseSpec):
    """A PostgreSQL database (13 or newer) shared by the team."""

    type: Literal["postgres"]
    connection: SecretStr = Field(
        description="A libpq URL or keywords (`postgresql://user:password@host:5432/db`). "
        "A secret: take it from the environment (`${WAREHOUSE_URL}`) or the secrets file."
    )
    default_schema: str = Field("public", description="Where an unqualified table lives.")
    connect_timeout: timedelta = Field(
        timedelta(seconds=10), description="How long one connection attempt may take."
    )
    statement_timeout: timedelta | None = Field(
        None,
        description="The longest one statement of a load (or a query) may run, e.g. `30m`; "
        "the server's setting when unset.",
    )
    application_name: str = Field(
        "sluiceway", description="How Sluiceway's sessions show in `pg_stat_activity`."
    )
    pool: PoolSpec = Field(default_factory=PoolSpec)
    retry: RetrySpec = Field(default_factory=RetrySpec)
    index_strategy: Literal["keep", "rebuild"] = Field(
        "keep",
        description="`rebuild` drops a table's secondary indexes before a load writes into it "
        "and recreates them before the commit (same transaction): faster for large loads.",
    )

    _durations = field_validator("connect_timeout", "statement_timeout", mode="before")(
        staticmethod(_duration)
    )
