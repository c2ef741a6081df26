"""What the store keeps, as plain data: documents and their log, projections, conflicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "ConflictRecord", "DeviceRecord", "DeviceSeen", "LogEntry", "LogPosition", "Projection", "ProjectionChange",
    "StoredDocument",
]


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A document as stored: its snapshot plus the log entries not yet folded into it.

    Applying ``snapshot`` and then every entry of ``updates`` (in any order: CRDT updates commute)
    rebuilds the document.
    """

    snapshot: bytes | None = None
    """The merged Yjs v1 update of every compacted entry; ``None`` when the document was never compacted."""

    updates: list[bytes] = field(default_factory=list)
    """Log entries written after the snapshot, in the order they were committed."""

    head: int = 0
    """The log position this state holds: every entry numbered up to it is in the snapshot or ``updates``
    (read before them, so later entries may be there too)."""

    folded: int = 0
    """The entries numbered up to this are folded into the snapshot."""

    @property
    def log_length(self) -> int:
        """How many log entries a load has to apply on top of the snapshot."""
        return len(self.updates)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One update to append to a document's log."""

    tenant: str
    name: str
    update: bytes
    seq: int = 0
    """Its position in the document's log, given by ``append`` (0 until then)."""


@dataclass(frozen=True, slots=True)
class LogPosition:
    """Where one document's log stands in the store: entries ever appended, and entries folded."""

    head: int = 0
    folded: int = 0

    @property
    def length(self) -> int:
        """Entries in the log beyond the snapshot."""
        return self.head - self.folded


@dataclass(frozen=True, slots=True)
class Projection:
    """The queryable view of one record document."""

    tenant: str
    name: str
    type: str
    status: str | None
    assignee: str | None
    updated_at: datetime
    """Timezone-aware; read back in UTC."""
    body: dict[str, Any]
    """The record's fields as JSON-compatible values."""


@dataclass(frozen=True, slots=True)
class ProjectionChange:
    """A projection as scopes see it, with the number of the save that last changed it."""

    name: str
    type: str
    status: str | None
    assignee: str | None
    record: dict[str, Any]
    """The record map (``Projection.body["record"]``)."""
    seq: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ConflictRecord:
    """A conflict (concurrent writes of one field) or a violation (a write the hub reverted) of one record."""

    tenant: str
    name: str
    field: str
    key: str
    """What was found, stable across merges and hub nodes (``FieldConflict.key`` for a conflict)."""
    kind: str
    """``conflict`` or ``violation``."""
    values: list[dict[str, Any]]
    """Every value involved, each with its ``value``, ``device``, ``user`` and ``hlc``."""
    winner: dict[str, Any] | None
    """The value the record holds after the hub's decision."""
    created_at: datetime
    code: str | None = None
    """For a violation, its ``ViolationCode``."""
    needs_review: bool = False
    status: str = "open"
    """``open`` until a person resolves it, then ``resolved``."""
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: dict[str, Any] | None = None
    id: int | None = None
    """Assigned by the store."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceSeen:
    """What the hub saw of one device since it last saved it: one row of a batched ``save_devices``."""

    tenant: str
    device: str
    user: str
    seen_at: datetime
    client_version: str = ""
    """Kept from earlier saves when empty (not every client sends one)."""
    synced_at: datetime | None = None
    """When the hub last acknowledged an update of the device; ``None`` keeps the stored one."""
    documents: tuple[str, ...] = ()
    """The documents it has open (at most ``MAX_LISTED``)."""
    scopes: tuple[str, ...] = ()
    """The scopes it follows, as ``name(param=value,...)``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceRecord:
    """A device as stored."""

    tenant: str
    device: str
    user: str
    first_seen_at: datetime
    last_seen_at: datetime
    client_version: str
    last_synced_at: datetime | None
    documents: list[str]
    scopes: list[str]
    revoked_at: datetime | None
    revoked_by: str | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None
