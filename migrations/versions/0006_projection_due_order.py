"""Indexes in the listing's ``due_at`` order, so a page by due time reads its rows in order.

``GET /api/records?sort=due_at`` reads records by ``due_at`` then name (``sync.store.sql_listing``). The
index of 0005 on (tenant, type, due_at) gave the due times in order but not the names among equal ones, so
each page read and sorted every record sharing its first due times (hundreds where due times are whole
hours). (tenant, type, due_at, name) replaces it and serves the whole order, and everything it served;
(tenant, due_at, name) serves the same order over every record type of a tenant.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_projections_tenant_type_due_at_name", "projections", ["tenant", "type", "due_at", "name"])
    op.drop_index("ix_projections_tenant_type_due_at", table_name="projections")
    op.create_index("ix_projections_tenant_due_at_name", "projections", ["tenant", "due_at", "name"])


def downgrade() -> None:
    op.drop_index("ix_projections_tenant_due_at_name", table_name="projections")
    op.create_index("ix_projections_tenant_type_due_at", "projections", ["tenant", "type", "due_at"])
    op.drop_index("ix_projections_tenant_type_due_at_name", table_name="projections")
