"""The Redis bus: one pub/sub channel per deployment, for any number of hub nodes.

Why pub/sub and not a stream per room (y-redis): here the store is the durable log. An update is
acknowledged only once it is committed to the store, and published after that; the bus only has to be
fast. A stream would keep a second copy of every update in Redis memory (trimmed by a worker) and would
still miss what a node committed but did not get to publish before it died. So the bus is fire and forget
(Hocuspocus's Redis extension works the same way), and every loss is detected and repaired from the store:
a subscription that restarts tells its listener (``connected``), and every envelope carries its node's
sequence number and nodes send heartbeats, so a receiver sees lost envelopes and silent nodes
(``sync.bus.peers``) and catches the affected rooms up from the store (``sync.bus.catchup``).

Keys: everything lives under ``prefix`` (``FIELDSYNC_REDIS_PREFIX``), so deployments or test runs
sharing one Redis never hear each other.
"""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from sync.bus.base import Bus, BusListener, BusUnavailable
from sync.cancellation import uncancelled

__all__ = ["RedisBus"]

log = logging.getLogger(__name__)

_CONNECT_TIMEOUT = 2.0
_COMMAND_TIMEOUT = 5.0
_HEALTH_CHECK_SECONDS = 5
_RECONNECT_MIN = 0.1
_RECONNECT_MAX = 2.0


class RedisBus(Bus):
    """Publishes to ``{prefix}:bus`` and listens on it, resubscribing with backoff after any failure."""

    def __init__(self, url: str, *, prefix: str = "fieldsync") -> None:
        self._url = url
        self.channel = f"{prefix}:bus"
        self._publisher = self._client()

    def _client(self) -> Redis:
        # No retries inside redis-py: a failure must reach us, so that a lost subscription is noticed.
        return Redis.from_url(
            self._url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=_CONNECT_TIMEOUT,
            socket_timeout=_COMMAND_TIMEOUT, health_check_interval=_HEALTH_CHECK_SECONDS,
        )

    async def publish(self, data: bytes) -> None:
        try:
            await uncancelled(self._publisher.publish(self.channel, data))
        except (RedisError, OSError) as exc:
            raise BusUnavailable(f"publish to Redis failed: {type(exc).__name__}: {exc}") from exc

    async def run(self, listener: BusListener) -> None:
        delay = _RECONNECT_MIN
        lost = False
        while True:
            client = self._client()
            pubsub = client.pubsub()
            try:
                await uncancelled(pubsub.subscribe(self.channel))
                while (await uncancelled(pubsub.get_message(timeout=1.0)) or {}).get("type") != "subscribe":
                    pass
                if lost:
                    log.warning("Redis bus subscription restored on %s", self.channel)
                lost = False
                delay = _RECONNECT_MIN
                listener.connected()
                while True:
                    message = await uncancelled(pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0))
                    if message is not None and message["type"] == "message":
                        try:
                            listener.received(message["data"])
                        except Exception:  # a listener's bug must not end the subscription
                            log.exception("bus listener failed")
            except (RedisError, OSError) as exc:
                if not lost:
                    log.warning("Redis bus subscription lost (%s: %s); retrying", type(exc).__name__, exc)
                lost = True
            finally:
                await _quietly(pubsub.aclose())
                await _quietly(client.aclose())
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RECONNECT_MAX)

    async def close(self) -> None:
        await _quietly(self._publisher.aclose())


async def _quietly(closing: object) -> None:
    try:
        await closing  # type: ignore[misc]
    except (RedisError, OSError):
        pass
