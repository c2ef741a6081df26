"""Projection change numbers: a per-tenant ``seq`` on every projection, for scope membership versions.

Existing projections are numbered 1..n per tenant (oldest ``updated_at`` first) and each tenant's counter
starts after its last number.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as of this revision: later model changes get their own migration.
SEQ = sa.BigInteger()

# UPDATE ... FROM and window functions: Postgres, and SQLite since 3.33.
_NUMBER_EXISTING = """
UPDATE projections SET seq = numbered.n
FROM (
    SELECT tenant, name, row_number() OVER (PARTITION BY tenant ORDER BY updated_at, name) AS n
    FROM projections
) AS numbered
WHERE projections.tenant = numbered.tenant AND projections.name = numbered.name
"""
_START_COUNTERS = "INSERT INTO projection_sequences (tenant, seq) SELECT tenant, MAX(seq) FROM projections GROUP BY tenant"


def upgrade() -> None:
    op.create_table(
        "projection_sequences",
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("seq", SEQ, nullable=False),
        sa.PrimaryKeyConstraint("tenant", name="pk_projection_sequences"),
    )
    op.add_column("projections", sa.Column("seq", SEQ, server_default=sa.text("0"), nullable=False))
    op.execute(_NUMBER_EXISTING)
    op.execute(_START_COUNTERS)
    op.create_index("ix_projections_tenant_seq", "projections", ["tenant", "seq"])


def downgrade() -> None:
    op.drop_index("ix_projections_tenant_seq", table_name="projections")
    with op.batch_alter_table("projections") as batch:
        batch.drop_column("seq")
    op.drop_table("projection_sequences")
