"""The bus as an extension: publish what this node committed and its clients' awareness; apply what the
other nodes send; repair from the store whatever the bus lost.

Outgoing messages are queued by the hooks (on the hot path) and published by ``run`` in envelopes, one
sequence number each, with a heartbeat when there was nothing to send for ``heartbeat`` seconds. When a
publish fails (Redis unreachable) its messages are dropped: the store has the updates, and the other nodes
see the skipped sequence number and catch up from it. Incoming updates go to the loaded room, and while a
room is loading they wait and are applied once it is ready. A room relays only what an update changed,
so an update heard twice (bus and catch-up) reaches each subscriber once, and never its writer: a node
ignores its own envelopes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from sync.bus.base import Bus, BusUnavailable
from sync.bus.catchup import CatchUp
from sync.bus.messages import (
    AwarenessChanged, Message, UpdateCommitted, decode_envelope, decode_message, encode_envelope,
)
from sync.bus.peers import Peers
from sync.documents.registry import Key, Rooms
from sync.documents.room import Room
from sync.errors import ProtocolError
from sync.hooks import Extension, Hooks
from sync.protocol.awareness import AwarenessEntry, decode_awareness_update, encode_awareness_update
from sync.store import DocumentLog, LogEntry

__all__ = ["BusExtension"]

log = logging.getLogger(__name__)

#: Most messages in one envelope.
MAX_ENVELOPE = 1000
#: Messages queued while the bus cannot take them; beyond this the oldest are dropped (the store has them).
MAX_QUEUED = 100_000


class RemoteNode:
    """Stands for another node as the owner of its clients' awareness states in this node's rooms."""

    __slots__ = ("node",)

    def __init__(self, node: str) -> None:
        self.node = node


class BusExtension(Extension):
    """Connects one node's rooms to the bus."""

    name = "bus"

    def __init__(
        self, bus: Bus, node_id: str, rooms: Rooms, store: DocumentLog, *, heartbeat: float = 1.0,
        silence: float = 5.0, hooks: Hooks | None = None,
    ) -> None:
        self.bus = bus
        self._hooks = hooks
        self._node_id = node_id
        self._rooms = rooms
        self._heartbeat = heartbeat
        self._outgoing: list[Message] = []
        self._wakeup = asyncio.Event()
        self._seq = 0
        self._backlog: dict[Key, list[tuple[bytes, int]]] = {}
        self._remote: dict[str, RemoteNode] = {}
        #: Nodes heard that do not number their updates (an older version, during a rolling upgrade).
        self._unnumbered: set[str] = set()
        self._down = False
        self._subscribed = asyncio.Event()
        self.peers = Peers(silence)
        self.catch_up = CatchUp(store, rooms)
        #: Envelopes published, envelopes that could not be, and gaps seen in other nodes' envelopes.
        self.published = 0
        self.failed = 0
        self.gaps = 0

    # -- background ------------------------------------------------------------------------------

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self.bus.run(self), name="bus-listen")
            group.create_task(self._publish_loop(), name="bus-publish")
            group.create_task(self._watch_peers(), name="bus-peers")
            group.create_task(self.catch_up.run(), name="bus-catch-up")

    async def _publish_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wakeup.wait(), self._heartbeat)
            except TimeoutError:
                pass  # nothing to send: a heartbeat
            self._wakeup.clear()
            batch, self._outgoing = self._outgoing[:MAX_ENVELOPE], self._outgoing[MAX_ENVELOPE:]
            if self._outgoing:
                self._wakeup.set()
            self._seq += 1
            try:
                await self.bus.publish(encode_envelope(self._node_id, self._seq, batch))
            except BusUnavailable as exc:
                self.failed += 1
                if not self._down:
                    log.warning("bus unavailable, other nodes will catch up from the store: %s", exc.reason)
                self._down = True
                await asyncio.sleep(self._heartbeat / 2)
            else:
                self.published += 1
                if self._down:
                    log.warning("bus available again")
                self._down = False

    async def _watch_peers(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat)
            for node in self.peers.silent(time.monotonic()):
                log.warning("node %s went silent on the bus; catching up from the store", node)
                self.catch_up.request(by_position=node not in self._unnumbered)
                self._unnumbered.discard(node)
                self._forget_awareness(node)

    # -- hooks -----------------------------------------------------------------------------------

    def update_committed(self, entries: Sequence[LogEntry]) -> None:
        self._queue([UpdateCommitted(e.tenant, e.name, e.update, e.seq) for e in entries])

    def awareness_changed(self, room: Room, entries: Sequence[AwarenessEntry]) -> None:
        self._queue([AwarenessChanged(room.tenant, room.name, encode_awareness_update(list(entries)))])

    def document_loaded(self, room: Room) -> None:
        for update, seq in self._backlog.pop((room.tenant, room.name), ()):
            self._apply(room, update, seq)
        self.catch_up.document_loaded(room)

    def _queue(self, messages: list[Message]) -> None:
        self._outgoing.extend(messages)
        if len(self._outgoing) > MAX_QUEUED:
            del self._outgoing[:len(self._outgoing) - MAX_QUEUED]
            self._seq += 1  # an envelope number nobody will hear: the other nodes catch up
        self._wakeup.set()

    @property
    def available(self) -> bool:
        """False from a failed publish until the next one succeeds (at most a heartbeat apart)."""
        return not self._down

    @property
    def waiting(self) -> int:
        """Updates of other nodes held for rooms still loading."""
        return sum(len(updates) for updates in self._backlog.values())

    # -- from the bus (a BusListener) ------------------------------------------------------------

    def connected(self) -> None:
        """Our subscription (re)started: what was published meanwhile is in the store."""
        self.peers.forget()
        self.catch_up.request(by_position=not self._unnumbered)
        self._subscribed.set()

    async def subscribed(self, timeout: float) -> bool:
        """Wait until the bus subscription first started (at most ``timeout`` s); True when it has."""
        try:
            await asyncio.wait_for(self._subscribed.wait(), timeout)
        except TimeoutError:
            log.warning("no bus subscription after %.0f s; serving, and catching up once it comes", timeout)
            return False
        return True

    def received(self, data: bytes) -> None:
        try:
            envelope = decode_envelope(data)
        except ValueError:
            log.error("a bus message that is not an envelope (%d bytes) was ignored", len(data))
            return
        if envelope.node == self._node_id:
            return
        if not envelope.numbered:
            self._unnumbered.add(envelope.node)
        if self.peers.heard(envelope.node, envelope.seq, time.monotonic()):
            self.gaps += 1
            self.catch_up.request(by_position=envelope.numbered)
        for raw in envelope.messages:
            match decode_message(raw):
                case UpdateCommitted(tenant=tenant, name=name, update=update, seq=seq):
                    self._receive_update((tenant, name), update, seq)
                case AwarenessChanged(tenant=tenant, name=name, update=update):
                    self._receive_awareness(envelope.node, (tenant, name), update)
                case None:
                    pass  # a kind this node does not know (sent by a newer one)

    def _receive_update(self, key: Key, update: bytes, seq: int) -> None:
        room = self._rooms.get(key)
        if room is not None:
            self._apply(room, update, seq)
        elif self._rooms.loading(key):
            self._backlog.setdefault(key, []).append((update, seq))
        else:
            self._backlog.pop(key, None)  # a load that failed left these: the store has them anyway

    def _apply(self, room: Room, update: bytes, seq: int) -> None:
        try:
            room.absorb(update)
        except ProtocolError:  # it continues an update not heard yet (or lost): the store has both
            self.catch_up.request([(room.tenant, room.name)])
            return
        room.position.noted(seq)
        room.stored_bytes += len(update)  # stored by the node that took it
        if self._hooks is not None:
            self._hooks.document_changed(room)  # e.g. an assignment made on another node moves access here too

    def _receive_awareness(self, node: str, key: Key, update: bytes) -> None:
        room = self._rooms.get(key)
        if room is None:
            return
        try:
            entries = decode_awareness_update(update)
        except ProtocolError:
            log.error("awareness from node %s for %s does not decode", node, key[1])
            return
        owner = self._remote.get(node) or self._remote.setdefault(node, RemoteNode(node))
        room.update_awareness(entries, owner, local=False)

    def _forget_awareness(self, node: str) -> None:
        owner = self._remote.pop(node, None)
        if owner is None:
            return
        for room in self._rooms.loaded.values():
            removals = room.awareness.remove_owner(owner)
            if removals:
                room.broadcast(room.awareness_frame(removals))
