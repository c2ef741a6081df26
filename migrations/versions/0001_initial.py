"""Initial tables: documents, update log, projections, devices.

Revision ID: 0001
Revises:
Create Date: 2025-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as of this revision: later model changes get their own migration.
LOG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_BODY = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("snapshot", sa.LargeBinary(), nullable=False),
        sa.Column("state_vector", sa.LargeBinary(), nullable=False),
        sa.Column("snapshot_updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "name", name="pk_documents"),
    )
    op.create_table(
        "updates",
        sa.Column("id", LOG_ID, autoincrement=True, nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TIMESTAMP, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_updates"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_updates_tenant_name_id", "updates", ["tenant", "name", "id"])
    op.create_table(
        "projections",
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("status", sa.String(64), nullable=True),
        sa.Column("assignee", sa.String(256), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("body", JSON_BODY, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "name", name="pk_projections"),
    )
    op.create_index("ix_projections_tenant_type_status", "projections", ["tenant", "type", "status"])
    op.create_index("ix_projections_tenant_assignee", "projections", ["tenant", "assignee"])
    op.create_index("ix_projections_tenant_updated_at", "projections", ["tenant", "updated_at"])
    op.create_table(
        "devices",
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("device", sa.String(256), nullable=False),
        sa.Column("user", sa.String(256), nullable=False),
        sa.Column("last_seen_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "device", name="pk_devices"),
    )


def downgrade() -> None:
    op.drop_table("devices")
    op.drop_index("ix_projections_tenant_updated_at", table_name="projections")
    op.drop_index("ix_projections_tenant_assignee", table_name="projections")
    op.drop_index("ix_projections_tenant_type_status", table_name="projections")
    op.drop_table("projections")
    op.drop_index("ix_updates_tenant_name_id", table_name="updates")
    op.drop_table("updates")
    op.drop_table("documents")
