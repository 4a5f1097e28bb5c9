"""The schema registry: every version of every table's schema.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create ``schema_versions``; its primary key also finds a table's latest version."""
    op.create_table(
        "schema_versions",
        sa.Column("warehouse", sa.Text(), nullable=False),
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("columns", _json(), nullable=False),
        sa.Column("diff", _json(), nullable=False),
        sa.Column("aliases", _json(), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("pipeline", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Text(), nullable=True),
        sa.Column("load_id", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("warehouse", "table_name", "version", name="pk_schema_versions"),
    )


def downgrade() -> None:
    """Drop the registry (every recorded schema version with it)."""
    op.drop_table("schema_versions")
