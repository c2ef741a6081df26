"""``CacheInvalidation``: a tenant's cache goes when its update is committed and when its projections are saved."""

from __future__ import annotations

import asyncio

import pytest

from sync.cache import CacheInvalidation, InProcessCache, RedisCache
from sync.hooks import Hooks
from sync.store import LogEntry
from tests.support.redis_server import RedisServer


async def settled(extension: CacheInvalidation, tenant: str, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while extension.pending(tenant):
            await asyncio.sleep(0.01)


async def test_committed_updates_and_saved_projections_invalidate_their_tenants_only() -> None:
    cache = InProcessCache()
    extension = CacheInvalidation(cache)
    hooks = Hooks([extension])
    runner = asyncio.create_task(extension.run())
    try:
        hooks.update_committed([LogEntry("acme", "work_order:WO-1", b""), LogEntry("acme", "work_order:WO-2", b"")])
        assert extension.pending("acme") and not extension.pending("globex")
        await settled(extension, "acme")
        assert await cache.generation("acme") == 1, "one invalidation per tenant per batch"
        assert await cache.generation("globex") == 0

        hooks.projections_saved({"acme", "globex"})
        await settled(extension, "acme")
        await settled(extension, "globex")
        assert (await cache.generation("acme"), await cache.generation("globex")) == (2, 1)
        assert extension.invalidations == 3 and extension.failures == 0
    finally:
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner


async def test_an_invalidation_that_fails_stays_pending_until_redis_is_back(redis_server: RedisServer) -> None:
    cache = RedisCache(redis_server.url, timeout_seconds=0.3)
    await cache.start()
    extension = CacheInvalidation(cache)
    runner = asyncio.create_task(extension.run())
    try:
        redis_server.stop()
        extension.update_committed([LogEntry("acme", "work_order:WO-1", b"")])
        await asyncio.sleep(1.0)
        assert extension.pending("acme"), "readers bypass the cache while the invalidation has not landed"
        assert extension.failures >= 1
        redis_server.start()
        await settled(extension, "acme", timeout=15)
        # landed; an increment whose answer timed out on a loaded machine is sent again, and lands twice: harmless
        assert await cache.generation("acme") >= 1
    finally:
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner
        await cache.close()


class HeldInvalidation(InProcessCache):
    """A cache whose invalidations wait until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.sending = asyncio.Event()

    async def invalidate(self, tenant: str) -> None:
        self.sending.set()
        await self.release.wait()
        await super().invalidate(tenant)


async def test_readers_bypass_the_cache_while_an_invalidation_is_on_its_way() -> None:
    cache = HeldInvalidation()
    extension = CacheInvalidation(cache)
    runner = asyncio.create_task(extension.run())
    try:
        extension.update_committed([LogEntry("acme", "work_order:WO-1", b"")])
        await asyncio.wait_for(cache.sending.wait(), 5)
        assert extension.pending("acme"), "sent but not landed: the cache may still hold answers from before"
        cache.release.set()
        await settled(extension, "acme")
        assert await cache.generation("acme") == 1
    finally:
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner
