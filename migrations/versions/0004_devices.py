"""Devices as the hub sees them: first seen, client version, last sync, what they follow, and revocation.

Revision ID: 0004_devices
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_devices"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as of this revision: later model changes get their own migration.
JSON_BODY = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("first_seen_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("client_version", sa.String(120), server_default="", nullable=False))
        batch.add_column(sa.Column("last_synced_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("documents", JSON_BODY, nullable=True))
        batch.add_column(sa.Column("scopes", JSON_BODY, nullable=True))
        batch.add_column(sa.Column("revoked_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("revoked_by", sa.String(256), nullable=True))
    op.execute("UPDATE devices SET first_seen_at = last_seen_at")
    op.create_index("ix_devices_revoked_at", "devices", ["revoked_at"])
    op.create_index("ix_devices_tenant_user", "devices", ["tenant", "user"])


def downgrade() -> None:
    op.drop_index("ix_devices_tenant_user", table_name="devices")
    op.drop_index("ix_devices_revoked_at", table_name="devices")
    with op.batch_alter_table("devices") as batch:
        for column in ("revoked_by", "revoked_at", "scopes", "documents", "last_synced_at", "client_version",
                       "first_seen_at"):
            batch.drop_column(column)
