"""Runs and step runs.

Revision ID: 0001
Revises: (none)

Migrations spell out their columns instead of importing ``sluiceway.meta.tables``: that module
describes the newest schema, and a migration must keep producing the schema of its own revision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _counters() -> list[sa.Column[int]]:
    return [
        sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")
        for name in ("rows_in", "rows_out", "rows_rejected", "bytes_in")
    ]


def upgrade() -> None:
    """Create ``runs`` and ``step_runs`` with their indexes."""
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(26), nullable=False),
        sa.Column("pipeline", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        *_counters(),
        sa.Column("error_class", sa.String(16), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("hostname", sa.Text(), nullable=True),
        sa.Column("config_hash", sa.String(64), nullable=True),
        sa.Column("details", _json(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name="pk_runs"),
    )
    op.create_index("ix_runs_started_at", "runs", ["started_at", "run_id"])
    op.create_index("ix_runs_pipeline_started_at", "runs", ["pipeline", "started_at"])
    op.create_index("ix_runs_status", "runs", ["status"])

    op.create_table(
        "step_runs",
        sa.Column("run_id", sa.String(26), nullable=False),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        *_counters(),
        sa.Column("load_id", sa.String(64), nullable=True),
        sa.Column("error_class", sa.String(16), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("details", _json(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.run_id"],
            name="fk_step_runs_run_id_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "step", "attempt", name="pk_step_runs"),
    )


def downgrade() -> None:
    """Drop both tables (and every recorded run with them)."""
    op.drop_table("step_runs")
    op.drop_table("runs")
