"""The hub: every loaded room of this node, the background work they need, and graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sync.access import Principal, TokenVerifier
from sync.bus import Bus, BusMessage, InProcessBus
from sync.protocol.codes import CloseCode
from sync.committer import Committer
from sync.config import HubConfig
from sync.errors import ProtocolError, StoreError
from sync.outcome import Violation
from sync.projection import project
from sync.protocol import encode_sync_update
from sync.ratelimit import DeviceLimits
from sync.referee import Referee
from sync.review import Review
from sync.room import Room, RoomState, Subscriber
from sync.scopes import ScopeRegistry, ScopeService, load_definitions
from sync.store import ConflictRecord, LogEntry, Store, StoredDocument

if TYPE_CHECKING:
    from sync.session import Session

log = logging.getLogger(__name__)
Key = tuple[str, str]

#: Most documents one store query loads when many are opened at once.
LOAD_BATCH = 200


class Hub:
    """Rooms keyed by (tenant, document name), loaded on first use and unloaded when idle."""

    def __init__(
        self,
        store: Store,
        verifier: TokenVerifier,
        *,
        config: HubConfig | None = None,
        bus: Bus | None = None,
        node_id: str | None = None,
        scopes: ScopeRegistry | None = None,
    ) -> None:
        self.store = store
        self.verifier = verifier
        self.config = config or HubConfig()
        self.bus = bus or InProcessBus()
        self.node_id = node_id or uuid.uuid4().hex[:12]
        self.rooms: dict[Key, Room] = {}
        self.sessions: set[Session] = set()
        self.closing = False
        self.device_limits = DeviceLimits(self.config.messages_per_second, self.config.message_burst)
        self.control_limits = DeviceLimits(self.config.control_messages_per_minute / 60, self.config.control_messages_per_minute)
        self.committer = Committer(
            store,
            on_committed=self._committed,
            delay_ms=self.config.group_commit_delay_ms,
            max_batch=self.config.group_commit_max_batch,
        )
        self.referee = Referee(self.node_id, store)
        self.review = Review(self)
        self.scopes = ScopeService(store, scopes or load_definitions(), poll_ms=self.config.scope_poll_ms)
        self._loads: dict[Key, asyncio.Future[Room]] = {}
        self._queued_loads: dict[str, list[str]] = {}
        self._load_tasks: set[asyncio.Task[None]] = set()
        self._writes: dict[asyncio.Future[None], dict[Room, int]] = {}
        self._bus_backlog: dict[Key, list[bytes]] = {}
        self._dirty: set[Key] = set()
        self._compactions: asyncio.Queue[Key] = asyncio.Queue()
        self._outgoing: asyncio.Queue[list[BusMessage]] = asyncio.Queue()
        self._shutdown_done: asyncio.Event | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Hub]:
        """Run the background tasks for the duration of the block; shuts down gracefully on exit."""
        await self.bus.start()
        self.bus.subscribe(self._on_bus_message)
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(self.committer.run(), name="committer"),
                    group.create_task(self._project_loop(), name="projector"),
                    group.create_task(self._compaction_loop(), name="compactor"),
                    group.create_task(self._publish_loop(), name="publisher"),
                    group.create_task(self._maintenance_loop(), name="maintenance"),
                    group.create_task(self.scopes.run(), name="scopes"),
                ]
                try:
                    yield self
                finally:
                    await self.shutdown()
                    for task in tasks:
                        task.cancel()
        finally:
            await self.bus.close()

    async def shutdown(self, code: CloseCode = CloseCode.GOING_AWAY, reason: str = "hub shutting down") -> None:
        """Stop taking frames, commit and acknowledge what was received, then close every socket."""
        if self._shutdown_done is not None:
            await self._shutdown_done.wait()
            return
        self._shutdown_done = asyncio.Event()
        self.closing = True
        try:
            await self.committer.drain()
            await self.flush_projections()
            await self.referee.conflicts.flush()
            await asyncio.gather(*(session.close(code, reason) for session in list(self.sessions)))
        finally:
            self._shutdown_done.set()

    # -- rooms -------------------------------------------------------------------------------------

    async def acquire(self, tenant: str, name: str) -> Room:
        """The room of (tenant, name), loading it once however many callers ask at the same time.

        First loads asked for in the same event-loop tick (a device opening its 300 documents) are read
        together, ``LOAD_BATCH`` documents per store query.
        """
        key = (tenant, name)
        room = self.rooms.get(key)
        if room is not None:
            return room
        load = self._loads.get(key)
        if load is None:
            load = self._loads[key] = asyncio.get_running_loop().create_future()
            # Updates from other nodes that arrive from now on are applied after the stored state.
            self._bus_backlog[key] = []
            if not self._queued_loads:
                asyncio.get_running_loop().call_soon(self._start_loads)
            self._queued_loads.setdefault(tenant, []).append(name)
        return await asyncio.shield(load)

    def _start_loads(self) -> None:
        queued, self._queued_loads = self._queued_loads, {}
        for tenant, names in queued.items():
            for start in range(0, len(names), LOAD_BATCH):
                task = asyncio.ensure_future(self._load(tenant, names[start:start + LOAD_BATCH]))
                self._load_tasks.add(task)
                task.add_done_callback(self._load_tasks.discard)

    async def _load(self, tenant: str, names: list[str]) -> None:
        """Load rooms of ``tenant`` and settle each one's future: its room, or the error that stopped it."""
        try:
            if len(names) == 1:
                stored = {names[0]: await self.store.load(tenant, names[0])}
            else:
                stored = await self.store.load_many(tenant, names)
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
        for update in self._bus_backlog[key]:
            room.doc.apply_update(update)
        self.referee.watch(room)
        room.state = RoomState.ACTIVE
        self.rooms[key] = room
        if room.log_length >= self.config.compaction_threshold:
            room.compacting = True
            self._compactions.put_nowait(key)
        return room

    def _settle(self, key: Key, outcome: Room | Exception | None) -> None:
        """Hand the load's outcome to every caller waiting for it (``None``: the load was cancelled)."""
        future = self._loads.pop(key)
        del self._bus_backlog[key]
        if outcome is None:
            future.cancel()
        elif isinstance(outcome, Room):
            future.set_result(outcome)
        else:
            future.set_exception(outcome)
            future.exception()  # a caller that gave up waiting must not leave it unretrieved

    def unload_idle(self, now: float | None = None) -> int:
        """Unload rooms idle for longer than the configured time; returns how many were unloaded."""
        now = time.monotonic() if now is None else now
        limit = self.config.idle_unload_seconds
        idle = [
            key
            for key, room in self.rooms.items()
            if room.idle and key not in self._dirty and now - room.idle_since >= limit
        ]
        for key in idle:
            self.rooms.pop(key).state = RoomState.UNLOADED
        return len(idle)

    # -- write path ----------------------------------------------------------------------------------

    def merge(
        self, room: Room, update: bytes, origin: Subscriber, author: Principal
    ) -> tuple[asyncio.Future[None], tuple[Violation, ...]]:
        """Merge a client's update and hold the record to its domain rules; raises ``ProtocolError`` if refused.

        The update is stored as sent. When the merged record breaks a rule (a forged stamp, a policy's other
        winner, a refused status change) the hub corrects it with an update of its own, sent to every
        subscriber including the author and stored in the same transaction as the client's update. Returns the
        commit future of both, and the violations to report to the author.
        """
        watch = room.watch
        if watch is None:
            room.apply_update(update, origin=origin)
            return self.persist(room, update), ()
        watch.begin()
        try:
            room.apply_update(update, origin=origin)
        finally:
            change = watch.collect()
        correction, violations = self.referee.judge(room, change, author, update)
        if correction is None:
            return self.persist(room, update), violations
        room.broadcast(encode_sync_update(room.name, correction))
        return self.persist(room, update, correction), violations

    def persist(self, room: Room, update: bytes, *more: bytes) -> asyncio.Future[None]:
        """Append ``update`` (and ``more``, in the same transaction) to the log; resolves once durable."""
        future = self.committer.submit(LogEntry(room.tenant, room.name, update), *(LogEntry(room.tenant, room.name, u) for u in more))
        room.pending_writes += 1
        # the submissions of one transaction share its future: count each room's writes, settle them at once
        writes = self._writes.get(future)
        if writes is None:
            writes = self._writes[future] = {}
            future.add_done_callback(self._writes_done)
        writes[room] = writes.get(room, 0) + 1
        return future

    def _writes_done(self, future: asyncio.Future[None]) -> None:
        for room, count in self._writes.pop(future, {}).items():
            room.pending_writes -= count

    def _committed(self, entries: Sequence[LogEntry]) -> None:
        threshold = self.config.compaction_threshold
        for entry in entries:
            key = (entry.tenant, entry.name)
            self._dirty.add(key)
            room = self.rooms.get(key)
            if room is not None:
                room.log_length += 1
                if room.log_length >= threshold and not room.compacting:
                    room.compacting = True
                    self._compactions.put_nowait(key)
        self._outgoing.put_nowait([BusMessage(self.node_id, e.tenant, e.name, e.update) for e in entries])

    # -- review ------------------------------------------------------------------------------------

    async def review_queue(self, tenant: str, *, limit: int = 1000) -> list[ConflictRecord]:
        """Open conflicts of ``tenant`` that need a person (``sync.review``)."""
        return await self.review.queue(tenant, limit=limit)

    async def resolve_conflict(self, tenant: str, conflict_id: int, value: Any, resolved_by: str) -> ConflictRecord:
        """Write a reviewer's ``value`` for every replica and mark the conflict resolved (``sync.review``)."""
        return await self.review.resolve(tenant, conflict_id, value, resolved_by)

    # -- background work ---------------------------------------------------------------------------

    async def flush_projections(self) -> None:
        """Write the projections of every document changed since the last flush."""
        keys, self._dirty = self._dirty, set()
        rows = []
        for key in keys:
            room = self.rooms.get(key)
            if room is not None:
                row = project(room.tenant, room.name, room.doc)
                if row is not None:
                    rows.append(row)
        if not rows:
            return
        try:
            await self.store.save_projections(rows)
        except StoreError as exc:
            log.error("projection refresh of %d records failed: %s", len(rows), exc.reason)
            self._dirty |= keys
            return
        self.scopes.changed({row.tenant for row in rows})

    async def _project_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.projection_interval_ms / 1000)
            await self.flush_projections()
            await self.referee.conflicts.flush()

    async def _compaction_loop(self) -> None:
        while True:
            key = await self._compactions.get()
            try:
                folded = await self.store.compact(*key)
            except StoreError as exc:
                log.error("compaction of %s/%s failed: %s", key[0], key[1], exc.reason)
                folded = 0
            room = self.rooms.get(key)
            if room is not None:
                room.log_length = max(0, room.log_length - folded)
                # the log kept growing during the pass: go again (unless the pass could do nothing, e.g.
                # another node holds the document's compaction lock; its next commit re-triggers)
                if folded and room.log_length >= self.config.compaction_threshold:
                    self._compactions.put_nowait(key)
                else:
                    room.compacting = False

    async def _publish_loop(self) -> None:
        while True:
            batch = await self._outgoing.get()
            try:
                await self.bus.publish(batch)
            except Exception:  # the bus is best effort: other nodes resync by state vector
                log.exception("bus publish of %d updates failed", len(batch))

    async def _maintenance_loop(self) -> None:
        interval = min(1.0, self.config.idle_unload_seconds / 4)
        while True:
            await asyncio.sleep(interval)
            self.unload_idle()
            self.device_limits.prune()
            self.control_limits.prune()

    def _on_bus_message(self, message: BusMessage) -> None:
        if message.node == self.node_id:
            return
        key = (message.tenant, message.name)
        backlog = self._bus_backlog.get(key)
        if backlog is not None:
            backlog.append(message.update)
            return
        room = self.rooms.get(key)
        if room is not None:
            try:
                room.apply_update(message.update, origin=None)
            except ProtocolError:
                log.error("update from node %s for %s does not decode", message.node, message.name)
