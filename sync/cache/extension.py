"""Cache invalidation as a hub extension: a tenant's cached answers go when a merge changes one of its records.

Each tenant is invalidated twice per change: when its update is committed (so a client that got its ack never
reads an answer cached before its write) and when the changed records' projections are saved (so an answer
computed between the two, from projections not yet written, is never read either). Hooks only note the
tenant; ``run`` does the I/O. An invalidation that fails (Redis down) is retried until it lands, and until
then ``pending`` tells readers to bypass the cache for that tenant.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence, Set

from sync.cache.base import Cache, CacheError
from sync.cancellation import uncancelled
from sync.hooks import Extension
from sync.store import LogEntry

__all__ = ["CacheInvalidation"]

log = logging.getLogger(__name__)

_RETRY_FIRST = 0.2
_RETRY_MAX = 5.0


class CacheInvalidation(Extension):
    """Invalidates ``cache`` per tenant on ``update_committed`` and ``projections_saved``."""

    name = "cache-invalidation"

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self._pending: set[str] = set()
        self._sending: set[str] = set()
        self._wake = asyncio.Event()
        self.invalidations = 0
        """Tenant invalidations that reached the cache."""
        self.failures = 0
        """Invalidations that failed and were retried."""

    def pending(self, tenant: str) -> bool:
        """True while a change of ``tenant`` has not yet invalidated the cache (noted, or its invalidation on
        its way): read from the store."""
        return tenant in self._pending or tenant in self._sending

    def update_committed(self, entries: Sequence[LogEntry]) -> None:
        self._note({entry.tenant for entry in entries})

    def projections_saved(self, tenants: Set[str]) -> None:
        self._note(tenants)

    def _note(self, tenants: Set[str]) -> None:
        if tenants:
            self._pending |= tenants
            self._wake.set()

    async def run(self) -> None:
        delay = _RETRY_FIRST
        while True:
            await self._wake.wait()
            self._wake.clear()
            if await self._drain():
                delay = _RETRY_FIRST
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX)
                self._wake.set()

    async def flush(self) -> None:
        await self._drain()

    async def _drain(self) -> bool:
        """Invalidate every pending tenant; False when one failed (it stays pending)."""
        for tenant in sorted(self._pending):
            # a tenant noted again while this runs stays pending: it needs one more invalidation
            self._pending.discard(tenant)
            self._sending.add(tenant)  # still pending for readers until it has landed
            try:
                await uncancelled(self.cache.invalidate(tenant))
            except CacheError as exc:
                self._pending.add(tenant)
                self.failures += 1
                log.warning("cache invalidation of tenant %r failed, retrying: %s", tenant, exc.reason)
                return False
            finally:
                self._sending.discard(tenant)
            self.invalidations += 1
        return True
