"""The ``Store`` interface: where documents, their update log, their projections and conflicts are kept."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync.scopes.definitions import ResolvedScope


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


class Store(ABC):
    """Persistence of documents. Every method raises ``StoreError`` when the database fails."""

    @abstractmethod
    async def start(self) -> None:
        """Open the engine and its pool. Does not create or migrate tables."""

    @abstractmethod
    async def close(self) -> None:
        """Close every connection; the store may be started again."""

    @abstractmethod
    async def ping(self) -> None:
        """Round-trip to the database; raises ``StoreError`` when it cannot be reached."""

    @abstractmethod
    async def load(self, tenant: str, name: str) -> StoredDocument:
        """The stored state of one document; an empty ``StoredDocument`` when it has none."""

    @abstractmethod
    async def load_many(self, tenant: str, names: Sequence[str]) -> dict[str, StoredDocument]:
        """``load`` for many documents of one tenant in a few queries; every name is a key of the result."""

    @abstractmethod
    async def append(self, entries: Sequence[LogEntry]) -> None:
        """Append all entries in one transaction; they are durable when this returns, or none is stored."""

    @abstractmethod
    async def compact(self, tenant: str, name: str) -> int:
        """Fold the snapshot and the log into a new snapshot; returns how many log entries were folded.

        Safe while appends continue and across hub nodes: returns 0 when another compaction of the
        same document is running.
        """

    @abstractmethod
    async def log_length(self, tenant: str, name: str) -> int:
        """How many log entries the document has beyond its snapshot."""

    @abstractmethod
    async def save_projections(self, rows: Sequence[Projection]) -> None:
        """Insert or replace projections, all in one transaction (the last row wins for a repeated name).

        Each saved row gets the next ``seq`` of its tenant; a tenant's saves commit in the order of their numbers.
        """

    @abstractmethod
    async def projection_seq(self, tenant: str) -> int:
        """The last ``seq`` given to a projection of ``tenant`` (0 before the first); every lower one is committed."""

    @abstractmethod
    async def scope_members(self, tenant: str, scope: ResolvedScope) -> list[str]:
        """Names of the projections of ``tenant`` that ``scope`` accepts, sorted (access rules not applied)."""

    @abstractmethod
    async def projections_changed_since(self, tenant: str, seq: int, *, limit: int = 1000) -> list[ProjectionChange]:
        """Projections of ``tenant`` whose ``seq`` is above ``seq``, lowest first, at most ``limit``."""

    @abstractmethod
    async def get_projection(self, tenant: str, name: str) -> Projection | None:
        """The projection of one record, or ``None``."""

    @abstractmethod
    async def query_projections(
        self,
        tenant: str,
        *,
        type: str | None = None,
        status: str | None = None,
        assignee: str | None = None,
        updated_since: datetime | None = None,
        limit: int = 1000,
    ) -> list[Projection]:
        """Projections of a tenant matching every given filter, oldest ``updated_at`` first.

        ``updated_since`` is inclusive, so a caller paging by the last seen timestamp misses nothing.
        """

    @abstractmethod
    async def save_conflicts(self, rows: Sequence[ConflictRecord]) -> None:
        """Insert conflicts in one transaction; a row whose (tenant, name, key) is already stored is skipped."""

    @abstractmethod
    async def list_conflicts(
        self,
        tenant: str,
        *,
        status: str | None = None,
        needs_review: bool | None = None,
        name: str | None = None,
        limit: int = 1000,
    ) -> list[ConflictRecord]:
        """Conflicts of a tenant matching every given filter, oldest first."""

    @abstractmethod
    async def get_conflict(self, tenant: str, conflict_id: int) -> ConflictRecord | None:
        """One conflict of a tenant, or ``None``."""

    @abstractmethod
    async def resolve_conflict(
        self, tenant: str, conflict_id: int, resolution: dict[str, Any], by: str
    ) -> ConflictRecord | None:
        """Mark an open conflict resolved; the updated row, or ``None`` when no open conflict has that id."""
