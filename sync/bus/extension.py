"""The bus as an extension: publish what this node committed, apply what other nodes committed.

Committed updates are queued by ``update_committed`` (a hook on the hot path) and published in batches by
``run``. Updates of other nodes go to the loaded room; while a room is being loaded they wait, and are
applied on top of the stored state when it is ready, so nothing that arrives during a load is missed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from sync.bus.base import Bus, BusMessage
from sync.documents.registry import Key, Rooms
from sync.documents.room import Room
from sync.errors import ProtocolError
from sync.hooks import Extension
from sync.store import LogEntry

__all__ = ["BusExtension"]

log = logging.getLogger(__name__)


class BusExtension(Extension):
    """Connects one node's rooms to the bus."""

    name = "bus"

    def __init__(
        self, bus: Bus, node_id: str, rooms: Rooms, *, on_applied: Callable[[Room], None] | None = None
    ) -> None:
        self.bus = bus
        self._on_applied = on_applied
        self._node_id = node_id
        self._rooms = rooms
        self._outgoing: asyncio.Queue[list[BusMessage]] = asyncio.Queue()
        self._backlog: dict[Key, list[bytes]] = {}

    async def run(self) -> None:
        while True:
            batch = await self._outgoing.get()
            try:
                await self.bus.publish(batch)
            except Exception:  # the bus is best effort: other nodes resync by state vector
                log.exception("bus publish of %d updates failed", len(batch))

    def update_committed(self, entries: Sequence[LogEntry]) -> None:
        self._outgoing.put_nowait([BusMessage(self._node_id, e.tenant, e.name, e.update) for e in entries])

    def document_loaded(self, room: Room) -> None:
        for update in self._backlog.pop((room.tenant, room.name), ()):
            room.doc.apply_update(update)

    @property
    def waiting(self) -> int:
        """Updates of other nodes held for rooms still loading."""
        return sum(len(updates) for updates in self._backlog.values())

    def receive(self, message: BusMessage) -> None:
        """A message from the bus (this node's own are ignored)."""
        if message.node == self._node_id:
            return
        key = (message.tenant, message.name)
        room = self._rooms.get(key)
        if room is None:
            if self._rooms.loading(key):
                self._backlog.setdefault(key, []).append(message.update)
            else:
                self._backlog.pop(key, None)  # a load that failed left these: the store has them anyway
            return
        try:
            room.apply_update(message.update, origin=None)
            room.stored_bytes += len(message.update)  # stored by the node that took it
        except ProtocolError:
            log.error("update from node %s for %s does not decode", message.node, message.name)
            return
        if self._on_applied is not None:
            self._on_applied(room)
