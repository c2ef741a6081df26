"""The ``Store``: every store interface in one, with the engine's lifecycle."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from sync.store.conflicts import ConflictStore
from sync.store.devices import DeviceStore
from sync.store.listing import RecordListing
from sync.store.log import DocumentLog
from sync.store.projections import ProjectionStore, ScopeIndex

__all__ = ["Store"]


class Store(DocumentLog, ProjectionStore, ScopeIndex, ConflictStore, DeviceStore, RecordListing, ABC):
    """Persistence of documents, projections (and their listings), conflicts and devices.

    Every method raises ``StoreError`` on failure.
    """

    on_query: Callable[[str, float], None] | None = None
    """Called after each unit of work with its name (``append``, ``load``...) and its seconds: what metrics
    observe. Set it before ``start``; it runs on the event loop, so it must only record."""

    @abstractmethod
    async def start(self) -> None:
        """Open the engine and its pool. Does not create or migrate tables."""

    @abstractmethod
    async def close(self) -> None:
        """Close every connection; the store may be started again."""

    @abstractmethod
    async def ping(self) -> None:
        """Round-trip to the database; raises ``StoreError`` when it cannot be reached."""
