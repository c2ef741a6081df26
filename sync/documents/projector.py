"""Projections kept current: every record changed by a commit is projected again at the next flush.

An extension: ``update_committed`` marks the record, ``run`` flushes every ``interval`` seconds (and the
referee's queued conflicts with it), and ``flush`` at shutdown. A marked room is held until its projection
is written, so unloading it meanwhile loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from sync.documents.projection import TEXT_LIMIT, project
from sync.documents.registry import Key, Rooms
from sync.documents.room import Room
from sync.errors import StoreError
from sync.hooks import Extension
from sync.store import LogEntry, ProjectionStore

__all__ = ["Projector"]

log = logging.getLogger(__name__)

#: While the store fails, projections are tried again this often (not every interval), and logged once.
RETRY_SECONDS = 1.0


class Projector(Extension):
    """Writes the projections of changed records in batches, then tells ``on_saved`` which tenants changed."""

    name = "projector"

    def __init__(
        self,
        store: ProjectionStore,
        rooms: Rooms,
        *,
        interval: float,
        on_saved: Callable[[set[str]], None],
        also_flush: Callable[[], Awaitable[None]] | None = None,
        text_limit: int = TEXT_LIMIT,
    ) -> None:
        self._store = store
        self._rooms = rooms
        self._interval = interval
        self._on_saved = on_saved
        self._also_flush = also_flush
        self._failing = False
        self._dirty: dict[Key, Room] = {}
        self._text_limit = text_limit

    def update_committed(self, entries: Sequence[LogEntry]) -> None:
        for entry in entries:
            key = (entry.tenant, entry.name)
            room = self._rooms.get(key)
            if room is not None:
                self._dirty[key] = room

    def pending(self, key: Key) -> bool:
        """True when the record ``key`` changed since its projection was last written."""
        return key in self._dirty

    async def run(self) -> None:
        while True:
            await asyncio.sleep(RETRY_SECONDS if self._failing else self._interval)
            await self.flush()

    async def flush(self) -> None:
        """Write the projections of every record changed since the last flush."""
        await self.flush_projections()
        if self._also_flush is not None:
            await self._also_flush()

    async def flush_projections(self) -> None:
        dirty, self._dirty = self._dirty, {}
        rows = []
        for room in dirty.values():
            row = project(room.tenant, room.name, room.doc, text_limit=self._text_limit)
            if row is not None:
                rows.append(row)
        if not rows:
            return
        try:
            await self._store.save_projections(rows)
        except StoreError as exc:
            if not self._failing:
                log.error("projection refresh of %d records failed, retrying every %.0f s: %s", len(rows),
                          RETRY_SECONDS, exc.reason)
            self._failing = True
            self._dirty = dirty | self._dirty
            return
        if self._failing:
            log.warning("projection refresh works again")
            self._failing = False
        self._on_saved({row.tenant for row in rows})
