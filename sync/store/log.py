"""The document log interface: snapshots, appended updates, loads and compaction."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from sync.store.records import LogEntry, LogPosition, StoredDocument

__all__ = ["DocumentLog"]


class DocumentLog(ABC):
    """Where each document's snapshot and update log live. Every method raises ``StoreError`` on failure."""

    @abstractmethod
    async def load(self, tenant: str, name: str) -> StoredDocument:
        """The stored state of one document; an empty ``StoredDocument`` when it has none."""

    @abstractmethod
    async def load_many(self, tenant: str, names: Sequence[str]) -> dict[str, StoredDocument]:
        """``load`` for many documents of one tenant in a few queries; every name is a key of the result."""

    @abstractmethod
    async def append(self, entries: Sequence[LogEntry]) -> list[LogEntry]:
        """Append all entries in one transaction; they are durable when this returns, or none is stored.

        Returns the entries in the same order, each with its position in its document's log (``seq``): a
        document's entries are numbered 1, 2, ... in the order they commit, whichever node appends them.
        """

    @abstractmethod
    async def positions(self, tenant: str, names: Sequence[str]) -> dict[str, LogPosition]:
        """Where the logs of ``names`` stand, in a few small queries (no update is read); every name is a key."""

    @abstractmethod
    async def compact(self, tenant: str, name: str, *, at_least: int = 1) -> int:
        """Fold the snapshot and the log into a new snapshot; returns how many log entries were folded.

        Folds nothing (returns 0) when the log holds fewer than ``at_least`` entries, as another node's
        compaction may just have left it. Safe while appends continue and across hub nodes: returns 0
        when another compaction of the same document is running.
        """

    @abstractmethod
    async def log_length(self, tenant: str, name: str) -> int:
        """How many log entries the document has beyond its snapshot."""
