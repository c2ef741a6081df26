"""The Redis cache: shared by every hub node, so one node's merge invalidates the tenant everywhere.

Keys: ``<prefix>gen:<tenant>`` holds the tenant's generation (``INCR`` invalidates); an entry is
``<prefix>v:<tenant>:<generation>:<key>`` with a TTL (``SET ... PX``). Nothing ever lists keys.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError

from sync.cache.base import Cache, CacheError

__all__ = ["RedisCache"]

_TIMEOUT_SECONDS = 0.5


class RedisCache(Cache):
    """A ``Cache`` on the Redis server at ``url`` (``redis://host:6379/0``).

    Every command has a short timeout, so a Redis that stopped answering costs a request half a second
    at most before it is served from the store.
    """

    def __init__(
        self, url: str, *, prefix: str = "fieldsync:cache:", timeout_seconds: float = _TIMEOUT_SECONDS
    ) -> None:
        self._url = url
        self._prefix = prefix
        self._timeout = timeout_seconds
        self._redis: Redis | None = None

    def __repr__(self) -> str:
        return f"RedisCache(prefix={self._prefix!r})"

    async def start(self) -> None:
        if self._redis is None:
            self._redis = Redis.from_url(
                self._url, socket_timeout=self._timeout, socket_connect_timeout=self._timeout,
                retry_on_timeout=False,
            )

    async def close(self) -> None:
        redis, self._redis = self._redis, None
        if redis is not None:
            await redis.aclose()

    def _client(self) -> Redis:
        if self._redis is None:
            raise CacheError("the Redis cache is not started")
        return self._redis

    def _generation_key(self, tenant: str) -> str:
        return f"{self._prefix}gen:{tenant}"

    def _value_key(self, tenant: str, generation: int, key: str) -> str:
        return f"{self._prefix}v:{tenant}:{generation}:{key}"

    async def generation(self, tenant: str) -> int:
        try:
            value = await self._client().get(self._generation_key(tenant))
        except (RedisError, OSError) as exc:
            raise CacheError(f"generation: {type(exc).__name__}: {exc}") from exc
        try:
            return int(value or 0)
        except ValueError:
            raise CacheError(f"generation of {tenant!r} is not a number") from None

    async def get(self, tenant: str, generation: int, key: str) -> bytes | None:
        try:
            value = await self._client().get(self._value_key(tenant, generation, key))
        except (RedisError, OSError) as exc:
            raise CacheError(f"get: {type(exc).__name__}: {exc}") from exc
        return bytes(value) if value is not None else None

    async def put(self, tenant: str, generation: int, key: str, value: bytes, ttl_seconds: float) -> None:
        milliseconds = int(ttl_seconds * 1000)
        if milliseconds <= 0:
            return
        try:
            await self._client().set(self._value_key(tenant, generation, key), value, px=milliseconds)
        except (RedisError, OSError) as exc:
            raise CacheError(f"put: {type(exc).__name__}: {exc}") from exc

    async def invalidate(self, tenant: str) -> None:
        try:
            await self._client().incr(self._generation_key(tenant))
        except (RedisError, OSError) as exc:
            raise CacheError(f"invalidate: {type(exc).__name__}: {exc}") from exc
