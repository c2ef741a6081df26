"""Contract of ``Cache``, run over every backend (in process, and the shared real Redis), plus each one's own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from sync.cache import Cache, CacheError, InProcessCache, RedisCache
from tests.support.hub import free_port
from tests.support.redis_server import SHARED_URL, RedisServer

TENANT = "acme"


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    backend: Cache
    if request.param == "memory":
        backend = InProcessCache()
    else:
        backend = RedisCache(SHARED_URL, prefix=request.getfixturevalue("shared_redis_prefix"))
    await backend.start()
    try:
        yield backend
    finally:
        await backend.close()


async def test_values_are_kept_per_tenant_generation_and_key(cache: Cache) -> None:
    assert await cache.generation(TENANT) == 0
    assert await cache.get(TENANT, 0, "page") is None
    await cache.put(TENANT, 0, "page", b"one", 60)
    await cache.put("globex", 0, "page", b"theirs", 60)
    assert await cache.get(TENANT, 0, "page") == b"one"
    assert await cache.get(TENANT, 0, "other") is None
    assert await cache.get("globex", 0, "page") == b"theirs"
    await cache.put(TENANT, 0, "page", b"two", 60)
    assert await cache.get(TENANT, 0, "page") == b"two", "a put replaces"


async def test_invalidating_a_tenant_hides_only_its_values(cache: Cache) -> None:
    await cache.put(TENANT, 0, "page", b"old", 60)
    await cache.put("globex", 0, "page", b"theirs", 60)

    await cache.invalidate(TENANT)

    assert await cache.generation(TENANT) == 1 and await cache.generation("globex") == 0
    assert await cache.get(TENANT, 1, "page") is None
    assert await cache.get("globex", 0, "page") == b"theirs"
    await cache.invalidate(TENANT)
    assert await cache.generation(TENANT) == 2


async def test_a_value_computed_across_an_invalidation_is_never_read(cache: Cache) -> None:
    generation = await cache.generation(TENANT)  # read before computing, as every reader does
    await cache.invalidate(TENANT)  # a merge lands while the answer is computed
    await cache.put(TENANT, generation, "page", b"stale", 60)
    assert await cache.get(TENANT, await cache.generation(TENANT), "page") is None


async def test_values_expire_after_their_ttl(cache: Cache) -> None:
    await cache.put(TENANT, 0, "short", b"v", 0.2)
    await cache.put(TENANT, 0, "none", b"v", 0)
    assert await cache.get(TENANT, 0, "short") == b"v"
    assert await cache.get(TENANT, 0, "none") is None, "a TTL of zero keeps nothing"
    await asyncio.sleep(0.3)
    assert await cache.get(TENANT, 0, "short") is None


async def test_the_in_process_cache_keeps_at_most_its_bound() -> None:
    cache = InProcessCache(max_entries=2)
    for key in ("a", "b"):
        await cache.put(TENANT, 0, key, key.encode(), 60)
    assert await cache.get(TENANT, 0, "a") == b"a"  # "a" is now the most recently used
    await cache.put(TENANT, 0, "c", b"c", 60)
    assert len(cache) == 2 and await cache.get(TENANT, 0, "b") is None and await cache.get(TENANT, 0, "a") == b"a"
    with pytest.raises(ValueError):
        InProcessCache(max_entries=0)


async def test_redis_that_does_not_answer_raises_cache_error_quickly() -> None:
    cache = RedisCache(f"redis://127.0.0.1:{free_port()}/0", timeout_seconds=0.3)
    with pytest.raises(CacheError):
        await cache.generation(TENANT)  # not started
    await cache.start()
    try:
        for call in (cache.generation(TENANT), cache.get(TENANT, 0, "k"), cache.put(TENANT, 0, "k", b"v", 1),
                     cache.invalidate(TENANT)):
            with pytest.raises(CacheError) as caught:
                await asyncio.wait_for(call, 5)
            assert caught.value.code == "cache_unavailable"
    finally:
        await cache.close()


async def test_redis_serves_again_once_it_is_back(redis_server: RedisServer) -> None:
    cache = RedisCache(redis_server.url, timeout_seconds=0.3)
    await cache.start()
    try:
        await cache.put(TENANT, 0, "k", b"v", 60)
        redis_server.stop()
        with pytest.raises(CacheError):
            await cache.get(TENANT, 0, "k")
        redis_server.start()
        assert await cache.get(TENANT, 0, "k") is None, "a restarted Redis without persistence is empty"
        await cache.put(TENANT, 0, "k", b"again", 60)
        assert await cache.get(TENANT, 0, "k") == b"again"
    finally:
        await cache.close()
