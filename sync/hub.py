"""The hub: one node's rooms, write path and extensions, started and stopped together.

The hub wires the parts and owns their lifetime; it holds no feature of its own. Each feature is an
``Extension`` attached to the hub's events (``sync.hooks``): compaction, projections, the bus, and the
extensions a deployment adds. A connection (``sync.connection.Session``) reaches the hub only through
what ``sync.connection.SessionHost`` names.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from sync.access import AccessRules, TokenVerifier, load_rules
from sync.bus import Bus, BusExtension, InProcessBus
from sync.config import HubConfig
from sync.gate import AccessGate, AccessWatch
from sync.connection.admission import Admission
from sync.connection.limits import DeviceLimits
from sync.connection.session import Session
from sync.documents import Committer, Compactor, Projector, Room, Rooms
from sync.hooks import Extension, Hooks
from sync.protocol.codes import CloseCode
from sync.referee import Referee, Review
from sync.connection_log import ConnectionLog
from sync.referee.rejections import Rejections
from sync.scopes import ScopeRegistry, ScopeService, load_definitions
from sync.store import ConflictRecord, Store
from sync.write import WritePath

__all__ = ["Hub"]

Key = tuple[str, str]

#: How long a starting hub waits for its bus subscription before serving without it (Redis down at start).
BUS_SUBSCRIBE_SECONDS = 3.0


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
        access: AccessRules | None = None,
        extensions: Iterable[Extension] = (),
    ) -> None:
        self.store = store
        self.verifier = verifier
        self.config = config = config or HubConfig()
        self.node_id = node_id or uuid.uuid4().hex[:12]
        self.sessions: set[Session] = set()
        self.closing = False
        self.device_limits = DeviceLimits(config.messages_per_second, config.message_burst)
        self.control_limits = DeviceLimits(config.control_messages_per_minute / 60, config.control_messages_per_minute)
        self.admission = Admission(config.max_unauthenticated_per_address)
        self.hooks = Hooks()
        self.referee = Referee(self.node_id, store, on_recorded=self.hooks.conflict_recorded)
        self.registry = Rooms(store, self.hooks, prepare=self._prepare)
        rules = access or load_rules()
        self.gate = AccessGate(rules, self.registry.acquire)
        self.committer = Committer(
            store, on_committed=self._committed, delay_ms=config.group_commit_delay_ms,
            max_batch=config.group_commit_max_batch,
        )
        self.writes = WritePath(
            self.committer, self.referee, self.hooks, self.gate, self.registry.get,
            max_document_bytes=config.max_document_bytes,
        )
        self.rejections = Rejections(store, per_hour=config.rejected_writes_per_hour, on_recorded=self.hooks.conflict_recorded)
        self.review = Review(store, self.referee, acquire=self.registry.acquire, persist=self.writes.persist)
        self.scopes = ScopeService(store, scopes or load_definitions(), poll_ms=config.scope_poll_ms, rules=rules)
        self.projector = Projector(
            store, self.registry, interval=config.projection_interval_ms / 1000, on_saved=self._projections_saved,
            also_flush=self.referee.conflicts.flush, text_limit=config.projection_text_chars,
        )
        self.bus_link = BusExtension(bus or InProcessBus(), self.node_id, self.registry, store, hooks=self.hooks)
        for extension in (AccessWatch(self.gate), Compactor(store, self.registry, threshold=config.compaction_threshold),
                          self.projector, self.bus_link, ConnectionLog(self.node_id), *extensions):
            self.hooks.add(extension)
        self._shutdown_done: asyncio.Event | None = None

    def _committed(self, entries: Any) -> None:
        self.writes.committed(entries)

    def _prepare(self, room: Room) -> None:
        room.awareness.document_limit = self.config.max_awareness_bytes_per_document
        self.referee.watch(room)
        self.gate.changed(room)  # remember who the record lets in, to notice when that changes

    def _projections_saved(self, tenants: set[str]) -> None:
        self.scopes.changed(tenants)
        self.hooks.projections_saved(tenants)

    @property
    def bus(self) -> Bus:
        return self.bus_link.bus

    @property
    def rooms(self) -> dict[Key, Room]:
        """The loaded rooms of this node."""
        return self.registry.loaded

    async def acquire(self, tenant: str, name: str) -> Room:
        """The room of (tenant, name), loaded once however many callers ask at the same time."""
        return await self.registry.acquire(tenant, name)

    def unload_idle(self, now: float | None = None) -> int:
        """Unload rooms idle for longer than the configured time; returns how many were unloaded."""
        return self.registry.unload_idle(self.config.idle_unload_seconds, now)

    # -- lifecycle ---------------------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Hub]:
        """Run the background tasks for the duration of the block; shuts down gracefully on exit."""
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(self.committer.run(), name="committer"),
                    group.create_task(self._maintenance_loop(), name="maintenance"),
                    group.create_task(self.scopes.run(), name="scopes"),
                    *(group.create_task(ext.run(), name=ext.name) for ext in self.hooks.extensions),
                ]
                try:
                    await self.bus_link.subscribed(timeout=BUS_SUBSCRIBE_SECONDS)
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
            for extension in self.hooks.extensions:
                await extension.flush()
            await asyncio.gather(*(session.close(code, reason) for session in list(self.sessions)))
        finally:
            self._shutdown_done.set()

    async def _maintenance_loop(self) -> None:
        interval = min(1.0, self.config.idle_unload_seconds / 4)
        while True:
            await asyncio.sleep(interval)
            self.unload_idle()
            self.device_limits.prune()
            self.control_limits.prune()
            self.rejections.prune()

    # -- what tests and operators call -------------------------------------------------------------

    async def flush_projections(self) -> None:
        """Write the projections of every record changed since the last flush."""
        await self.projector.flush_projections()

    async def review_queue(self, tenant: str, *, limit: int = 1000) -> list[ConflictRecord]:
        """Open conflicts of ``tenant`` that need a person (``sync.referee.review``)."""
        return await self.review.queue(tenant, limit=limit)

    async def resolve_conflict(self, tenant: str, conflict_id: int, value: Any, resolved_by: str) -> ConflictRecord:
        """Write a reviewer's ``value`` for every replica and mark the conflict resolved (``sync.referee.review``)."""
        return await self.review.resolve(tenant, conflict_id, value, resolved_by)
