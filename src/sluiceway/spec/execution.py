"""How a pipeline's steps run: parallelism, limits, retries, circuit breakers, timeouts.

::

    execution:
      max_workers: 4                     # steps at once
      limits: {shop_db: 2, warehouse: 3} # steps at once per resource or endpoint
      step_timeout: 30m
      retry: {attempts: 3, base_delay: 1s, max_delay: 1m}
      breaker: {failures: 3, cooldown: 5m}

A source may set its own ``retry`` and ``timeout``, name the resources it holds
(``resources: [shop_db]``) and the steps it waits for (``depends_on``, ``references``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import Field, field_validator, model_validator

from sluiceway.core.durations import parse_duration
from sluiceway.core.retry import RetryPolicy
from sluiceway.spec.models_base import StrictModel


def to_timedelta(value: object) -> object:
    """``"30s"`` → timedelta; a number is seconds."""
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    return value


class RetrySpec(StrictModel):
    """Retries of transient failures (a server unreachable or restarting, a lost connection, a
    lock held elsewhere): exponential backoff with full jitter. Data, schema and terminal
    errors are never retried."""

    attempts: int = Field(3, ge=1, le=100, description="Tries in all, the first included.")
    base_delay: timedelta = Field(
        timedelta(seconds=1), description="The cap of the first delay, e.g. `500ms`."
    )
    max_delay: timedelta = Field(timedelta(seconds=60), description="No delay is longer.")

    _durations = field_validator("base_delay", "max_delay", mode="before")(
        staticmethod(to_timedelta)
    )

    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            attempts=self.attempts,
            base_delay=self.base_delay.total_seconds(),
            max_delay=self.max_delay.total_seconds(),
        )


class BreakerSpec(StrictModel):
    """A circuit breaker per endpoint (a database, an API host): ``failures`` transient
    failures in a row open it; while open, steps that need the endpoint are `blocked`, not
    tried; after ``cooldown`` one step tries it (half-open) and closes it on success."""

    failures: int = Field(3, ge=1, description="Transient failures in a row that open it.")
    cooldown: timedelta = Field(
        timedelta(minutes=5), description="How long it stays open before a trial, e.g. `5m`."
    )

    _durations = field_validator("cooldown", mode="before")(staticmethod(to_timedelta))


class ExecutionSpec(StrictModel):
    """How the steps of a run are executed."""

    max_workers: int = Field(
        4, ge=1, le=64, description="Steps that run at once (independent steps only)."
    )
    limits: dict[str, int] = Field(
        default_factory=dict,
        description="Steps at once per resource: an endpoint (`postgres://db:5432/shop`, or the "
        "connection URL itself), a name a source lists in `resources`, or `warehouse`.",
    )
    step_timeout: timedelta | None = Field(
        None, description="A step still running after this fails (at its next batch), e.g. `30m`."
    )
    retry: RetrySpec | None = Field(
        None,
        description="Retries of transient failures for every step. Unset: only a lost warehouse "
        "connection is retried, by the warehouse's own policy.",
    )
    breaker: BreakerSpec = Field(default_factory=BreakerSpec)
    discover_foreign_keys: bool = Field(
        True,
        description="Read foreign keys from the catalogs of PostgreSQL/MySQL table sources, so "
        "that a table loads after the tables it refers to.",
    )

    _durations = field_validator("step_timeout", mode="before")(staticmethod(to_timedelta))

    @field_validator("limits")
    @classmethod
    def _limits(cls, value: dict[str, int]) -> dict[str, int]:
        from sluiceway.core.endpoints import normalize_endpoint

        bad = [k for k, v in value.items() if v < 1]
        if bad:
            raise ValueError(f"limits must be at least 1: {', '.join(bad)}")
        return {normalize_endpoint(k): v for k, v in value.items()}


class ReferenceSpec(StrictModel):
    """A foreign key to another table: the source loading ``table`` runs first."""

    table: str = Field(description="The referenced table, e.g. `bronze.customers`.")
    columns: list[str] = Field(default_factory=list, description="This table's key columns.")
    ref_columns: list[str] = Field(
        default_factory=list, description="The referenced table's columns."
    )

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        return {"table": value} if isinstance(value, str) else value
