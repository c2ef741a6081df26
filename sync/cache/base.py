"""The cache of computed answers (list pages, reports), invalidated per tenant by generations.

Every entry lives under its tenant's current *generation*. Invalidating a tenant increments its generation,
which makes every entry of the tenant unreachable at once, without listing keys (no ``KEYS``, no scans); the
unreachable entries expire by their TTL. A reader reads the generation *before* computing what it will
store, so a value computed while an invalidation happens is stored under the old generation and never read.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from sync.errors import FieldsyncError

__all__ = ["Cache", "CacheError"]


class CacheError(FieldsyncError):
    """The cache backend could not be reached or answered wrongly; callers serve from the store instead."""

    def __init__(self, reason: str) -> None:
        super().__init__("cache_unavailable", reason)


class Cache(ABC):
    """Values (bytes) per (tenant, generation, key). Every method raises ``CacheError`` on backend failure."""

    @abstractmethod
    async def generation(self, tenant: str) -> int:
        """The tenant's current generation (0 before its first invalidation)."""

    @abstractmethod
    async def get(self, tenant: str, generation: int, key: str) -> bytes | None:
        """The value stored under ``key`` in that generation of the tenant, or ``None``."""

    @abstractmethod
    async def put(self, tenant: str, generation: int, key: str, value: bytes, ttl_seconds: float) -> None:
        """Store ``value`` for at most ``ttl_seconds``; a put under an old generation is never read."""

    @abstractmethod
    async def invalidate(self, tenant: str) -> None:
        """Start a new generation for ``tenant``: nothing stored before is read again."""

    async def start(self) -> None:
        """Connect, where there is something to connect to."""

    async def close(self) -> None:
        """Release connections; the cache may be started again."""
