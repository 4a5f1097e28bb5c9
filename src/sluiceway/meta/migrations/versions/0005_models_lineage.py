"""Models and lineage: versions of every model, and the lineage edges of each version.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create ``model_versions`` and ``lineage_edges``."""
    op.create_table(
        "model_versions",
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sql_hash", sa.String(64), nullable=False),
        sa.Column("sql", sa.Text(), nullable=False),
        sa.Column("materialization", sa.String(16), nullable=False),
        sa.Column("config", _json(), nullable=False),
        sa.Column("columns", _json(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(26), nullable=True),
        sa.PrimaryKeyConstraint("model", "version", name="pk_model_versions"),
    )
    op.create_table(
        "lineage_edges",
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source_table", sa.Text(), nullable=True),
        sa.Column("source_column", sa.Text(), nullable=True),
        sa.Column("target_table", sa.Text(), nullable=False),
        sa.Column("target_column", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("expression", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model", "version", "position", name="pk_lineage_edges"),
    )
    op.create_index("ix_lineage_edges_source", "lineage_edges", ["source_table", "source_column"])
    op.create_index("ix_lineage_edges_target", "lineage_edges", ["target_table", "target_column"])


def downgrade() -> None:
    """Drop the models' versions and lineage."""
    op.drop_index("ix_lineage_edges_target", table_name="lineage_edges")
    op.drop_index("ix_lineage_edges_source", table_name="lineage_edges")
    op.drop_table("lineage_edges")
    op.drop_table("model_versions")
