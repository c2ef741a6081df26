"""The store's tables as SQLAlchemy models. Alembic migrations create them; this module only describes them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON, BigInteger, Boolean, DateTime, Index, Integer, LargeBinary, MetaData, Numeric, String, UniqueConstraint, func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only makes an INTEGER PRIMARY KEY a rowid alias (cheap, ordered inserts); Postgres gets BIGSERIAL.
LogId = BigInteger().with_variant(Integer(), "sqlite")
JsonBody = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC, read back aware on every engine (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the store needs timezone-aware values")
        value = value.astimezone(UTC)
        # SQLite compares the stored text, so every value must have the same (offset-free) form.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base carrying the constraint naming convention the migrations use."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DocumentRow(Base):
    """The compacted state of one document: every folded update merged into one Yjs v1 update."""

    __tablename__ = "documents"

    tenant: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(512), primary_key=True)
    snapshot: Mapped[bytes] = mapped_column(LargeBinary)
    state_vector: Mapped[bytes] = mapped_column(LargeBinary)
    snapshot_updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class UpdateRow(Base):
    """One entry of the update log: a Yjs v1 update acknowledged to its sender and not yet compacted."""

    __tablename__ = "updates"
    __table_args__ = (
        Index("ix_updates_tenant_name_id", "tenant", "name", "id"),
        # Never reuse an id after compaction deleted the newest rows: ids stay a valid order and cursor.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(512))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    seq: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    """The entry's position in its document's log: 1, 2, ... in commit order (``DocumentLogRow.head``)."""


class DocumentLogRow(Base):
    """Where one document's log stands: how many entries were ever appended, and how many were folded.

    Appends number their entries from ``head`` under this row's lock, so a document's entries commit in the
    order of their numbers: whoever sees entry N committed sees every entry before it. Compaction folds a
    prefix of the log and records its last number in ``folded``; ``head - folded`` is the log's length.
    """

    __tablename__ = "document_logs"

    tenant: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(512), primary_key=True)
    head: Mapped[int] = mapped_column(BigInteger)
    folded: Mapped[int] = mapped_column(BigInteger)


class ProjectionRow(Base):
    """The queryable view of one record: typed, indexed columns plus the whole record as JSON."""

    __tablename__ = "projections"
    __table_args__ = (
        Index("ix_projections_tenant_type_status", "tenant", "type", "status"),
        Index("ix_projections_tenant_assignee", "tenant", "assignee"),
        Index("ix_projections_tenant_updated_at", "tenant", "updated_at"),
        Index("ix_projections_tenant_seq", "tenant", "seq"),
        # the listing's due_at order (name breaks ties), of one record type and of all of them
        Index("ix_projections_tenant_type_due_at_name", "tenant", "type", "due_at", "name"),
        Index("ix_projections_tenant_due_at_name", "tenant", "due_at", "name"),
        Index("ix_projections_tenant_team", "tenant", "team"),
        Index("ix_projections_tenant_name", "tenant", "name"),
    )

    tenant: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(512), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(256))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    body: Mapped[dict[str, Any]] = mapped_column(JsonBody)
    seq: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    """When the row last changed: the tenant's ``projection_sequences.seq`` assigned by that save."""
    # Derived from the body by ``sync.store.columns`` at every save, for REST filters and reports.
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    team: Mapped[str | None] = mapped_column(String(128))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(20, 4, asdecimal=True))
    status_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    search: Mapped[str | None] = mapped_column(String(1000))


class ProjectionSequenceRow(Base):
    """The last ``seq`` given to a projection of each tenant: scope membership versions.

    Saves increment it in their own transaction, so on Postgres its row lock orders the commits of one
    tenant's saves exactly as their numbers: whoever sees seq N committed has every row numbered below N.
    """

    __tablename__ = "projection_sequences"

    tenant: Mapped[str] = mapped_column(String(128), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


class DeviceRow(Base):
    """A device known to the hub: who uses it, when it was seen and synced, what it follows, whether it is revoked."""

    __tablename__ = "devices"
    __table_args__ = (
        Index("ix_devices_revoked_at", "revoked_at"),
        Index("ix_devices_tenant_user", "tenant", "user"),
    )

    tenant: Mapped[str] = mapped_column(String(128), primary_key=True)
    device: Mapped[str] = mapped_column(String(256), primary_key=True)
    user: Mapped[str] = mapped_column(String(256))
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    first_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    client_version: Mapped[str] = mapped_column(String(120), server_default="")
    last_synced_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """The last time the hub acknowledged an update of this device (SyncStatus(true))."""
    documents: Mapped[list[str] | None] = mapped_column(JsonBody)
    scopes: Mapped[list[str] | None] = mapped_column(JsonBody)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(256))


class ConflictRow(Base):
    """A conflict (concurrent writes of one field) or a violation (a write the hub reverted) of one record.

    ``key`` identifies what was found (``FieldConflict.key`` for a conflict), so finding it again, on
    another merge or another hub node, stores nothing new.
    """

    __tablename__ = "conflicts"
    __table_args__ = (
        UniqueConstraint("tenant", "name", "key"),
        Index("ix_conflicts_tenant_status_needs_review", "tenant", "status", "needs_review"),
        Index("ix_conflicts_tenant_name", "tenant", "name"),
    )

    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(512))
    field: Mapped[str] = mapped_column(String(256))
    key: Mapped[str] = mapped_column(String(1024))
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(64))
    values: Mapped[list[Any]] = mapped_column(JsonBody)
    winner: Mapped[dict[str, Any] | None] = mapped_column(JsonBody)
    needs_review: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(256))
    resolution: Mapped[dict[str, Any] | None] = mapped_column(JsonBody)


documents = DocumentRow.__table__
updates = UpdateRow.__table__
document_logs = DocumentLogRow.__table__
projections = ProjectionRow.__table__
projection_sequences = ProjectionSequenceRow.__table__
devices = DeviceRow.__table__
conflicts = ConflictRow.__table__
