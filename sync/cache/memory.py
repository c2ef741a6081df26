"""The in-process cache: the embedded mode's (one hub node), a bounded LRU map with TTLs."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from sync.cache.base import Cache

__all__ = ["InProcessCache"]


class InProcessCache(Cache):
    """Entries in this process's memory, at most ``max_entries`` (the least recently used go first).

    Only right for one hub node: another node's merges do not reach it (the Redis cache is shared).
    """

    def __init__(self, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._clock = clock
        self._generations: dict[str, int] = {}
        self._entries: OrderedDict[tuple[str, int, str], tuple[float, bytes]] = OrderedDict()

    async def generation(self, tenant: str) -> int:
        return self._generations.get(tenant, 0)

    async def get(self, tenant: str, generation: int, key: str) -> bytes | None:
        slot = (tenant, generation, key)
        entry = self._entries.get(slot)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._clock():
            del self._entries[slot]
            return None
        self._entries.move_to_end(slot)
        return value

    async def put(self, tenant: str, generation: int, key: str, value: bytes, ttl_seconds: float) -> None:
        if generation != self._generations.get(tenant, 0) or ttl_seconds <= 0:
            return  # an old generation is never read again: do not let it take room
        self._entries[(tenant, generation, key)] = (self._clock() + ttl_seconds, value)
        self._entries.move_to_end((tenant, generation, key))
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    async def invalidate(self, tenant: str) -> None:
        old = self._generations.get(tenant, 0)
        self._generations[tenant] = old + 1
        for slot in [slot for slot in self._entries if slot[0] == tenant and slot[1] == old]:
            del self._entries[slot]

    def __len__(self) -> int:
        return len(self._entries)
