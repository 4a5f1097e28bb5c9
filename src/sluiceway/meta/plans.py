"""Query plans of model steps, stored with their run (``sluiceway runs plan RUN STEP``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select

from sluiceway.core.clock import utcnow
from sluiceway.meta.store import MetaStore
from sluiceway.meta.tables import step_plans


@dataclass(frozen=True, slots=True)
class StepPlan:
    """The plan of one attempt of a model step: measured (``analyzed``) or estimated; ``plan``
    is ``None`` when the warehouse could not explain the query, and ``error`` says why."""

    run_id: str
    step: str
    attempt: int
    dialect: str
    analyzed: bool
    sql: str
    plan: Any
    error: str | None
    captured_at: datetime


def record_plan(
    store: MetaStore,
    *,
    run_id: str,
    step: str,
    attempt: int,
    dialect: str,
    analyzed: bool,
    sql: str,
    plan: Any = None,
    error: str | None = None,
) -> None:
    """Store the plan of an attempt (replacing one stored for it before)."""
    key = (
        step_plans.c.run_id == run_id,
        step_plans.c.step == step,
        step_plans.c.attempt == attempt,
    )
    with store.transaction(f"record the query plan of step {step!r}") as connection:
        connection.execute(delete(step_plans).where(*key))
        connection.execute(
            insert(step_plans).values(
                run_id=run_id,
                step=step,
                attempt=attempt,
                dialect=dialect,
                analyzed=int(analyzed),
                sql=sql,
                plan=plan,
                error=error,
                captured_at=utcnow(),
            )
        )


def list_plans(store: MetaStore, run_id: str, step: str | None = None) -> list[StepPlan]:
    """The plans stored with a run (of one step), by step then attempt."""
    query = select(step_plans).where(step_plans.c.run_id == run_id)
    if step is not None:
        query = query.where(step_plans.c.step == step)
    with store.reading(f"read the query plans of run {run_id}") as connection:
        rows: Sequence[Any] = connection.execute(
            query.order_by(step_plans.c.step, step_plans.c.attempt)
        ).all()
    return [
        StepPlan(
            run_id=m["run_id"],
            step=m["step"],
            attempt=m["attempt"],
            dialect=m["dialect"],
            analyzed=bool(m["analyzed"]),
            sql=m["sql"],
            plan=m["plan"],
            error=m["error"],
            captured_at=m["captured_at"],
        )
        for m in (row._mapping for row in rows)
    ]
