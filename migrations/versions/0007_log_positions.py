"""Log positions: every log entry numbered per document, and each document's head and folded position.

Nodes compare the positions they have merged with the store's in one cheap query for many documents (a
catch-up after bus messages were lost reads again only the documents that moved), and compaction reads a
document's real log length across nodes (``head - folded``). Existing entries are numbered here in log order.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_logs",
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("head", sa.BigInteger(), nullable=False),
        sa.Column("folded", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "name", name="pk_document_logs"),
    )
    with op.batch_alter_table("updates") as batch:
        batch.add_column(sa.Column("seq", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
    # Logs are short (compaction keeps them under its threshold), so numbering by a correlated count is cheap.
    op.execute(
        "UPDATE updates SET seq = (SELECT count(*) FROM updates AS earlier"
        " WHERE earlier.tenant = updates.tenant AND earlier.name = updates.name AND earlier.id <= updates.id)"
    )
    op.execute(
        "INSERT INTO document_logs (tenant, name, head, folded)"
        " SELECT tenant, name, count(*), 0 FROM updates GROUP BY tenant, name"
    )


def downgrade() -> None:
    with op.batch_alter_table("updates") as batch:
        batch.drop_column("seq")
    op.drop_table("document_logs")
