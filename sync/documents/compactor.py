"""Compaction in the background: a document whose log passed the threshold is folded into its snapshot.

An extension. The trigger is the document's real log length (``Room.log_length``: the highest entry number
heard, from this node's commits, other nodes' through the bus, or the store, less what is known folded), so
updates spread over several nodes count together. Every node holding the document may then decide to
compact it at about the same time; that is safe and cheap: the store takes a lock per document (a second
node's attempt returns at once) and folds nothing when the log is already below the threshold (another
node just compacted it). ``run`` compacts one queued document at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from sync.documents.registry import Key, Rooms
from sync.documents.room import Room
from sync.errors import StoreError
from sync.hooks import Document, Extension
from sync.store import DocumentLog, LogEntry, LogPosition

__all__ = ["Compactor"]

log = logging.getLogger(__name__)


class Compactor(Extension):
    """Queues documents whose log reached ``threshold`` entries and compacts them one by one."""

    name = "compactor"

    def __init__(self, store: DocumentLog, rooms: Rooms, *, threshold: int) -> None:
        self._store = store
        self._rooms = rooms
        self._threshold = threshold
        self._queue: asyncio.Queue[Key] = asyncio.Queue()

    def document_loaded(self, room: Room) -> None:
        self._consider(room)

    def document_changed(self, room: Document) -> None:
        # another node's update applied here (its number is noted): the log grew though no commit was ours
        self._consider(self._rooms.get((room.tenant, room.name)))

    def update_committed(self, entries: Sequence[LogEntry]) -> None:
        for entry in entries:
            self._consider(self._rooms.get((entry.tenant, entry.name)))

    def _consider(self, room: Room | None) -> None:
        if room is not None and room.log_length >= self._threshold and not room.compacting:
            room.compacting = True
            self._queue.put_nowait((room.tenant, room.name))

    async def run(self) -> None:
        while True:
            key = await self._queue.get()
            position: LogPosition | None = None
            try:
                folded = await self._store.compact(*key, at_least=self._threshold)
                position = (await self._store.positions(key[0], [key[1]]))[key[1]]
            except StoreError as exc:
                log.error("compaction of %s/%s failed: %s", key[0], key[1], exc.reason)
                folded = 0
            room = self._rooms.get(key)
            if room is not None:
                if position is not None:
                    room.position.stored(position.head, position.folded)
                if folded:  # the snapshot is the merge of what was folded: about the document's encoded size
                    room.stored_bytes = len(room.doc.get_update())
                # the log kept growing during the pass: go again (unless the pass could do nothing, e.g.
                # another node holds the document's compaction lock; the next change re-triggers)
                if folded and room.log_length >= self._threshold:
                    self._queue.put_nowait(key)
                else:
                    room.compacting = False
