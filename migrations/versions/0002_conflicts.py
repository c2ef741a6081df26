"""Conflicts and violations of records, with their review state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as of this revision: later model changes get their own migration.
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_BODY = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "conflicts",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("field", sa.String(256), nullable=False),
        sa.Column("key", sa.String(1024), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("code", sa.String(64), nullable=True),
        sa.Column("values", JSON_BODY, nullable=False),
        sa.Column("winner", JSON_BODY, nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("resolved_at", TIMESTAMP, nullable=True),
        sa.Column("resolved_by", sa.String(256), nullable=True),
        sa.Column("resolution", JSON_BODY, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_conflicts"),
        sa.UniqueConstraint("tenant", "name", "key", name="uq_conflicts_tenant_name_key"),
    )
    op.create_index("ix_conflicts_tenant_status_needs_review", "conflicts", ["tenant", "status", "needs_review"])
    op.create_index("ix_conflicts_tenant_name", "conflicts", ["tenant", "name"])


def downgrade() -> None:
    op.drop_index("ix_conflicts_tenant_name", table_name="conflicts")
    op.drop_index("ix_conflicts_tenant_status_needs_review", table_name="conflicts")
    op.drop_table("conflicts")
