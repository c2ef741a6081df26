"""The board on the deployment's Redis: a key per node that expires, and a sorted set naming the nodes.

Keys, under ``FIELDSYNC_REDIS_PREFIX``: ``<prefix>:admin:node:<id>`` holds the node's snapshot with a TTL
(``SET ... PX``), so a node that stops refreshing it drops out by itself; ``<prefix>:admin:nodes`` scores
each node id with the time of its last post, so a reader finds the keys without ``KEYS`` or a scan. A
reader takes the ids posted in the last minute (the newest ``MAX_NODES``) and ``MGET``s their keys: an
expired key reads as nothing. Each post also drops ids silent for a minute, so the set stays small.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from sync.admin.nodes.base import BoardUnavailable, NodeBoard

__all__ = ["MAX_NODES", "RedisBoard"]

#: The most nodes a read returns (the ones heard from last).
MAX_NODES = 256
#: An id not posted for this long leaves the set (its key expired long before).
FORGET_SECONDS = 60.0
_TIMEOUT_SECONDS = 0.5


class RedisBoard(NodeBoard):
    """Every command has a short timeout and no retry: an admin request waits half a second at most for a
    silent Redis (and answers without the other nodes), and a post that fails is made again a second later."""

    def __init__(self, url: str, *, prefix: str = "fieldsync", timeout_seconds: float = _TIMEOUT_SECONDS) -> None:
        self._redis = Redis.from_url(url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds,
                                     retry=Retry(NoBackoff(), 0))
        self._nodes = f"{prefix}:admin:nodes"
        self._key = f"{prefix}:admin:node:"

    async def post(self, node: str, data: bytes, ttl: float) -> None:
        now = time.time()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(self._key + node, data, px=max(1, int(ttl * 1000)))
                pipe.zadd(self._nodes, {node: now})
                pipe.zremrangebyscore(self._nodes, "-inf", now - FORGET_SECONDS)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise BoardUnavailable(f"post to Redis failed: {type(exc).__name__}: {exc}") from exc

    async def read(self) -> dict[str, bytes]:
        try:
            ids = await self._redis.zrevrangebyscore(self._nodes, "+inf", time.time() - FORGET_SECONDS,
                                                     start=0, num=MAX_NODES)
            if not ids:
                return {}
            values = await self._redis.mget([self._key + _text(node) for node in ids])
        except (RedisError, OSError) as exc:
            raise BoardUnavailable(f"read from Redis failed: {type(exc).__name__}: {exc}") from exc
        return {_text(node): bytes(value) for node, value in zip(ids, values, strict=True) if value is not None}

    async def leave(self, node: str) -> None:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._key + node)
                pipe.zrem(self._nodes, node)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise BoardUnavailable(f"leave on Redis failed: {type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        try:
            await self._redis.aclose()
        except (RedisError, OSError):
            pass


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
