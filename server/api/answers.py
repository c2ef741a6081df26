"""Cached answers: the REST API's list pages and report bases, kept per tenant in the hub's ``Cache``.

A tenant's answers are read from the cache unless a change of that tenant has not invalidated it yet
(``CacheInvalidation.pending``). The cache failing (Redis down) never fails a request: the answer is
computed from the store, the failure is counted, and the cache is left alone for a few seconds so that a
dead Redis does not cost every request its timeout.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from sync import Cache, CacheError, CacheInvalidation

__all__ = ["AnswerCache"]

log = logging.getLogger(__name__)

#: After a cache failure, requests go straight to the store for this long.
_PAUSE_SECONDS = 5.0
Compute = Callable[[], Awaitable[tuple[bytes, float | None]]]


class AnswerCache:
    """Answers per (tenant, key); ``compute`` gives the answer and how long it may be kept (``None``: ``ttl``)."""

    def __init__(self, cache: Cache, invalidation: CacheInvalidation, *, ttl_seconds: float = 300.0) -> None:
        self.cache = cache
        self.invalidation = invalidation
        self.ttl_seconds = ttl_seconds
        self.hits = 0
        self.misses = 0
        self.bypassed = 0
        """Answers computed without the cache: a tenant's invalidation was pending, or the cache was paused."""
        self.failures = 0
        """Cache operations that failed (each answer was computed from the store instead)."""
        self._paused_until = 0.0

    async def fetch(self, tenant: str, key: str, compute: Compute) -> bytes:
        if self.invalidation.pending(tenant) or time.monotonic() < self._paused_until:
            self.bypassed += 1
            return (await compute())[0]
        try:
            generation = await self.cache.generation(tenant)
            cached = await self.cache.get(tenant, generation, key)
        except CacheError as exc:
            self._failed(exc)
            return (await compute())[0]
        if cached is not None:
            self.hits += 1
            return cached
        self.misses += 1
        value, ttl = await compute()
        keep = self.ttl_seconds if ttl is None else min(ttl, self.ttl_seconds)
        if keep > 0:
            try:
                await self.cache.put(tenant, generation, key, value, keep)
            except CacheError as exc:
                self._failed(exc)
        return value

    def _failed(self, exc: CacheError) -> None:
        self.failures += 1
        self._paused_until = time.monotonic() + _PAUSE_SECONDS
        log.warning("cache unavailable, answering from the store for %.0f s: %s", _PAUSE_SECONDS, exc.reason)
