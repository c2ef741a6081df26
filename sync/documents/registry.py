"""The rooms of one hub node: loaded on first use (many at once in batches), unloaded when idle."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from sync.documents.room import Room
from sync.hooks import Hooks
from sync.store import DocumentLog, StoredDocument

__all__ = ["LOAD_BATCH", "Key", "Rooms"]

log = logging.getLogger(__name__)
Key = tuple[str, str]

#: Most documents one store query loads when many are opened at once.
LOAD_BATCH = 200


class Rooms:
    """Rooms keyed by (tenant, document name); every concurrent first load of one document shares one read."""

    def __init__(self, store: DocumentLog, hooks: Hooks, *, prepare: Callable[[Room], None]) -> None:
        self._store = store
        self._hooks = hooks
        self._prepare = prepare
        self.loaded: dict[Key, Room] = {}
        self._loads: dict[Key, asyncio.Future[Room]] = {}
        self._queued: dict[str, list[str]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def get(self, key: Key) -> Room | None:
        return self.loaded.get(key)

    def loading(self, key: Key) -> bool:
        """True while the first load of ``key`` is in flight."""
        return key in self._loads

    def loading_keys(self) -> list[Key]:
        """The documents whose first load is in flight."""
        return list(self._loads)

    async def acquire(self, tenant: str, name: str) -> Room:
        """The room of (tenant, name), loading it once however many callers ask at the same time.

        First loads asked for in the same event-loop tick (a device opening its 300 documents) are read
        together, ``LOAD_BATCH`` documents per store query.
        """
        key = (tenant, name)
        room = self.loaded.get(key)
        if room is not None:
            return room
        load = self._loads.get(key)
        if load is None:
            load = self._loads[key] = asyncio.get_running_loop().create_future()
            if not self._queued:
                asyncio.get_running_loop().call_soon(self._start_loads)
            self._queued.setdefault(tenant, []).append(name)
        return await asyncio.shield(load)

    def _start_loads(self) -> None:
        queued, self._queued = self._queued, {}
        for tenant, names in queued.items():
            for start in range(0, len(names), LOAD_BATCH):
                task = asyncio.ensure_future(self._load(tenant, names[start:start + LOAD_BATCH]))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _load(self, tenant: str, names: list[str]) -> None:
        """Load rooms of ``tenant`` and settle each one's future: its room, or the error that stopped it."""
        try:
            if len(names) == 1:
                stored = {names[0]: await self._store.load(tenant, names[0])}
            else:
                stored = await self._store.load_many(tenant, names)
        except asyncio.CancelledError:
            for name in names:
                self._settle((tenant, name), None)
            raise
        except Exception as exc:
            for name in names:
                self._settle((tenant, name), exc)
            return
        for name in names:
            key = (tenant, name)
            try:
                room = self._install(key, stored[name])
            except Exception as exc:
                self._settle(key, exc)
            else:
                self._settle(key, room)

    def _install(self, key: Key, stored: StoredDocument) -> Room:
        room = Room(*key)
        for update in room.load(stored):
            log.error("stored update of %s/%s does not decode (%d bytes); kept in the log", key[0], key[1], len(update))
        self._prepare(room)
        room.on_awareness = lambda entries: self._hooks.awareness_changed(room, entries)
        self._hooks.document_loaded(room)  # e.g. the bus applies what other nodes sent during the load
        self.loaded[key] = room
        return room

    def _settle(self, key: Key, outcome: Room | Exception | None) -> None:
        """Hand the load's outcome to every caller waiting for it (``None``: the load was cancelled)."""
        future = self._loads.pop(key)
        if outcome is None:
            future.cancel()
        elif isinstance(outcome, Room):
            future.set_result(outcome)
        else:
            future.set_exception(outcome)
            future.exception()  # a caller that gave up waiting must not leave it unretrieved

    def unload(self, key: Key) -> bool:
        """Unload one room now if it is idle (no subscribers, no write waiting for its commit)."""
        room = self.loaded.get(key)
        if room is None or not room.idle:
            return False
        self._hooks.document_unloaded(self.loaded.pop(key))
        return True

    def unload_idle(self, limit: float, now: float | None = None) -> int:
        """Unload rooms idle for at least ``limit`` seconds; returns how many were unloaded."""
        now = time.monotonic() if now is None else now
        idle = [key for key, room in self.loaded.items() if room.idle and now - room.idle_since >= limit]
        for key in idle:
            self._hooks.document_unloaded(self.loaded.pop(key))
        return len(idle)
