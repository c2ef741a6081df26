"""Projection columns for REST filters and reports: due time, team, claimed amount, status time, search text.

They are derived from the body (``sync.store.columns``), so existing rows are filled here from theirs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sync.store.columns import derived_columns
from sync.store.tables import UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004_devices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("due_at", "team", "amount", "status_since", "search")
_BATCH = 1000


def upgrade() -> None:
    op.add_column("projections", sa.Column("due_at", UtcDateTime(), nullable=True))
    op.add_column("projections", sa.Column("team", sa.String(128), nullable=True))
    op.add_column("projections", sa.Column("amount", sa.Numeric(20, 4, asdecimal=True), nullable=True))
    op.add_column("projections", sa.Column("status_since", UtcDateTime(), nullable=True))
    op.add_column("projections", sa.Column("search", sa.String(1000), nullable=True))
    _fill_existing()
    op.create_index("ix_projections_tenant_type_due_at", "projections", ["tenant", "type", "due_at"])
    op.create_index("ix_projections_tenant_team", "projections", ["tenant", "team"])
    op.create_index("ix_projections_tenant_name", "projections", ["tenant", "name"])


def _fill_existing() -> None:
    bind = op.get_bind()
    table = sa.table(
        "projections", sa.column("tenant"), sa.column("name"), sa.column("type"), sa.column("body", sa.JSON()),
        *(sa.column(name) for name in _COLUMNS),
    )
    rows = bind.execute(sa.select(table.c.tenant, table.c.name, table.c.type, table.c.body)).all()
    update = (
        sa.update(table)
        .where(table.c.tenant == sa.bindparam("b_tenant"), table.c.name == sa.bindparam("b_name"))
        .values(
            due_at=sa.bindparam("due_at", type_=UtcDateTime()), team=sa.bindparam("team"),
            amount=sa.bindparam("amount", type_=sa.Numeric(20, 4)),
            status_since=sa.bindparam("status_since", type_=UtcDateTime()), search=sa.bindparam("search"),
        )
    )
    values = [
        {"b_tenant": row.tenant, "b_name": row.name, **derived_columns(row.type, row.body or {})} for row in rows
    ]
    for start in range(0, len(values), _BATCH):
        bind.execute(update, values[start:start + _BATCH])


def downgrade() -> None:
    op.drop_index("ix_projections_tenant_name", table_name="projections")
    op.drop_index("ix_projections_tenant_team", table_name="projections")
    op.drop_index("ix_projections_tenant_type_due_at", table_name="projections")
    with op.batch_alter_table("projections") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
