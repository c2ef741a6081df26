"""Catch-up: bring loaded rooms to what the store holds after bus messages were lost.

Every update is committed before it is published, so whatever the bus lost is in the store. When a loss
is detected (our subscription restarted, a node's envelopes skipped a number, a node went silent, an
update arrived before one it depends on), the rooms concerned are caught up, and only what they lack is
merged and relayed (``Room.catch_up``): a subscriber never receives an update twice.

A loss does not say which documents it hit, so every loaded room is concerned; but only those whose log
moved past what the room merged (``Room.position``) lack anything. The store's log positions of many rooms
are read in one small query (no update is read), and only the rooms behind them are read again: a loss
while a few documents of thousands changed costs a few document reads, not thousands. Only a loss that may
hold commits of a node that does not number them (an older version, during a rolling upgrade) has every
room concerned read again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from sync.documents.registry import LOAD_BATCH, Key, Rooms
from sync.documents.room import Room
from sync.errors import StoreError
from sync.store import DocumentLog

__all__ = ["CatchUp"]

log = logging.getLogger(__name__)

#: Wait before reading the store again when it failed.
RETRY_SECONDS = 1.0


class CatchUp:
    """Queued catch-up requests, served by ``run``."""

    def __init__(self, store: DocumentLog, rooms: Rooms, *, retry: float = RETRY_SECONDS) -> None:
        self._store = store
        self._rooms = rooms
        self._retry = retry
        self._everything = False
        self._keys: set[Key] = set()
        self._after_load: set[Key] = set()
        self._wakeup = asyncio.Event()
        self._busy = False
        self._by_position = True
        #: Rooms that lacked something, rooms read again from the store, catch-up passes.
        self.rooms_caught_up = 0
        self.rooms_read = 0
        self.runs = 0

    def request(self, keys: Iterable[Key] | None = None, *, by_position: bool = True) -> None:
        """Catch up ``keys``, or every loaded room (and every room loading now) when ``None``.

        ``by_position=False``: read them again whatever their log positions say, since what was lost may
        have been committed by a node that does not number its entries (they move no position).
        """
        if keys is None:
            self._everything = True
        else:
            self._keys.update(keys)
        self._by_position = self._by_position and by_position
        self._wakeup.set()

    def document_loaded(self, room: Room) -> None:
        """A load that began before a loss may have read the store before the lost update was committed."""
        key = (room.tenant, room.name)
        if key in self._after_load:
            self._after_load.discard(key)
            self.request([key], by_position=False)  # rare, and the loss may have been of either kind

    @property
    def pending(self) -> bool:
        """True while a catch-up is asked for or running."""
        return self._busy or self._everything or bool(self._keys) or bool(self._after_load)

    async def run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            keys, by_position = self._take()
            self._busy = True
            try:
                await self._catch_up(keys, by_position)
            except StoreError as exc:
                log.warning("catch-up of %d rooms from the store failed (%s); retrying", len(keys), exc.reason)
                self._keys.update(keys)
                self._by_position = self._by_position and by_position
                await asyncio.sleep(self._retry)
                self._wakeup.set()
            finally:
                self._busy = False

    def _take(self) -> tuple[set[Key], bool]:
        keys, self._keys = self._keys, set()
        by_position, self._by_position = self._by_position, True
        if self._everything:
            self._everything = False
            keys.update(self._rooms.loaded)
            self._after_load.update(self._rooms.loading_keys())
        return keys, by_position

    async def _catch_up(self, keys: set[Key], by_position: bool) -> None:
        self.runs += 1
        by_tenant: dict[str, list[str]] = {}
        for tenant, name in keys:
            by_tenant.setdefault(tenant, []).append(name)
        done: set[Key] = set()
        try:
            for tenant, names in by_tenant.items():
                for start in range(0, len(names), LOAD_BATCH):
                    chunk = names[start:start + LOAD_BATCH]
                    behind = await self._behind(tenant, chunk) if by_position else [
                        name for name in chunk if (tenant, name) in self._rooms.loaded]
                    stored = await self._store.load_many(tenant, behind) if behind else {}
                    self.rooms_read += len(behind)
                    for name in chunk:
                        done.add((tenant, name))
                        room = self._rooms.get((tenant, name))
                        if room is not None and name in stored and room.catch_up(stored[name]):
                            self.rooms_caught_up += 1
                    await asyncio.sleep(0)
        finally:
            keys -= done

    async def _behind(self, tenant: str, names: list[str]) -> list[str]:
        """The loaded rooms among ``names`` that lack entries the store's log holds."""
        positions = await self._store.positions(tenant, names)
        behind = []
        for name in names:
            room = self._rooms.get((tenant, name))
            if room is not None:
                position = positions[name]
                room.position.stored(position.head, position.folded)
                if position.head > room.position.merged:
                    behind.append(name)
        return behind
