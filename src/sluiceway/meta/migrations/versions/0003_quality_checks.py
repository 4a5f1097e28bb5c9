"""Quality history: every load's rule results, profile, cleaning report and score.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create ``quality_checks``, one row per checked load."""
    op.create_table(
        "quality_checks",
        sa.Column("warehouse", sa.Text(), nullable=False),
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("load_id", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=True),
        sa.Column("pipeline", sa.Text(), nullable=True),
        sa.Column("step", sa.Text(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("committed", sa.Integer(), nullable=False),
        sa.Column("rows", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("dimensions", _json(), nullable=True),
        sa.Column("results", _json(), nullable=False),
        sa.Column("profile", _json(), nullable=True),
        sa.Column("cleaning", _json(), nullable=True),
        sa.PrimaryKeyConstraint("warehouse", "table_name", "load_id", name="pk_quality_checks"),
    )
    op.create_index(
        "ix_quality_checks_table_time",
        "quality_checks",
        ["warehouse", "table_name", "checked_at"],
    )
    op.create_index("ix_quality_checks_run_id", "quality_checks", ["run_id"])


def downgrade() -> None:
    """Drop the quality history."""
    op.drop_index("ix_quality_checks_run_id", table_name="quality_checks")
    op.drop_index("ix_quality_checks_table_time", table_name="quality_checks")
    op.drop_table("quality_checks")
