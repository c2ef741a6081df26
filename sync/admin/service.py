"""The operators' view of the hub nodes and their actions, asked of one node, for one tenant at a time.

Everything is read from the node's own state (its sockets, rooms and counters), from the store, and for the
connections and rooms of the other nodes from the snapshots they post to the board (``sync.admin.nodes``);
actions go through the same parts the hub uses (the store's compaction, the rooms' unload, revocation).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import msgspec

from sync.admin.activity import Activity
from sync.admin.devices import DeviceTracker
from sync.admin.local import LocalViews
from sync.admin.nodes import BoardUnavailable, NodeBoard, NodeSnapshot, SnapshotPoster
from sync.admin.nodes import decode as decode_snapshot
from sync.admin.nodes import take as take_snapshot
from sync.admin.revocation import RevocationCheck, Revocations
from sync.admin.views import (
    CompactionView, ConflictCount, ConnectionsView, CountsView, DevicePage, DeviceScopesView, DeviceView, NodeView,
    RevocationView, RoomsView, ScopeMembershipView, UnloadView,
)
from sync.access import TokenVerifier
from sync.errors import AdminError
from sync.hooks import Extension
from sync.protocol.codes import ErrorCode
from sync.store import DeviceRecord, Store

__all__ = ["Admin"]

log = logging.getLogger(__name__)

MAX_PAGE = 500


class Admin:
    """Built before the hub (its extensions and token check go into ``Hub(...)``), then ``bind``-ed to it."""

    def __init__(self, store: Store, verifier: TokenVerifier, *, device_interval: float = 1.0,
                 board: NodeBoard | None = None) -> None:
        """``board``: where the nodes sharing a store post their snapshots (``RedisBoard``); ``None`` for one node,
        whose connections and rooms views then hold its own only."""
        self.store = store
        self.revocations = Revocations(store)
        self.verifier = RevocationCheck(verifier, revocations=self.revocations)
        """The token check to give the hub: the server's verifier, refusing revoked devices."""
        self.hub: Any = None
        self.activity = Activity(self._sockets)
        self.devices = DeviceTracker(store, self._sockets, interval=device_interval)
        self.local = LocalViews(self.activity)
        self.board = board
        self.poster = SnapshotPoster(board, self.snapshot) if board is not None else None

    @property
    def extensions(self) -> list[Extension]:
        return [self.revocations, self.activity, self.devices, *([self.poster] if self.poster else [])]

    def _sockets(self) -> Any:
        return self.hub.sessions if self.hub is not None else ()

    def bind(self, hub: Any) -> None:
        """Attach to the hub built with ``extensions`` and ``verifier``."""
        self.hub = hub
        self.local.hub = hub
        self.revocations.node = hub

    async def start(self) -> None:
        """Load the revocations before the hub serves sockets (retried in the background if the store is down)."""
        await self.revocations.load()

    # -- views -------------------------------------------------------------------------------------

    async def connections(self, tenant: str) -> ConnectionsView:
        """The tenant's sockets on this node (live) and on every other node on the board (their snapshots)."""
        now = datetime.now(UTC)
        views = [view for _, view in self.local.connections(tenant)]
        nodes, others, partial = await self._nodes(now)
        for snapshot in others:
            views.extend(snapshot.connections.get(tenant, ()))
        return ConnectionsView(nodes=nodes, connections=sorted(views, key=lambda view: (view.since, view.id)),
                               partial=partial)

    async def rooms(self, tenant: str) -> RoomsView:
        """The tenant's rooms in this node's memory (live) and in every other node's on the board."""
        now = datetime.now(UTC)
        views = [view for _, view in self.local.rooms(tenant)]
        nodes, others, partial = await self._nodes(now)
        for snapshot in others:
            views.extend(snapshot.rooms.get(tenant, ()))
        return RoomsView(nodes=nodes, rooms=sorted(views, key=lambda view: (view.document, view.node)),
                         partial=partial)

    async def devices_page(self, tenant: str, *, user: str | None = None, revoked: bool | None = None,
                           seen_since: datetime | None = None, after: str | None = None,
                           limit: int = 100) -> DevicePage:
        limit = max(1, min(limit, MAX_PAGE))
        await self.devices.flush()
        records = await self.store.list_devices(tenant, user=user, revoked=revoked, seen_since=seen_since, after=after,
                                                limit=limit + 1)
        elsewhere = await self._elsewhere(tenant)
        page = [self._device(record, elsewhere) for record in records[:limit]]
        return DevicePage(devices=page, next=page[-1].device if len(records) > limit else None)

    async def device(self, tenant: str, device: str) -> DeviceView:
        await self.devices.flush()
        record = await self._record(tenant, device)
        return self._device(record, await self._elsewhere(tenant))

    async def device_scopes(self, tenant: str, device: str) -> DeviceScopesView:
        await self.devices.flush()
        record = await self._record(tenant, device)
        live = [
            ScopeMembershipView(connection=f"{self.hub.node_id}-{session.outlet.traffic.id}", id=sub.id,
                                scope=sub.scope.definition.name, params=dict(sub.scope.params), version=sub.version,
                                members=sorted(sub.members))
            for session in self._sessions_of(tenant, device) for sub in session.scopes.subscriptions.values()
        ]
        return DeviceScopesView(device=device, live=live, recorded=record.scopes)

    async def counts(self, tenant: str) -> CountsView:
        conflicts = await self.store.count_conflicts(tenant)
        return CountsView(
            refusals=dict(sorted(self.activity.refusals.get(tenant, {}).items())),
            conflicts=[ConflictCount(kind=kind, code=code, status=status, count=count)
                       for (kind, code, status), count in sorted(conflicts.items(), key=str)],
        )

    # -- actions -----------------------------------------------------------------------------------

    async def compact(self, tenant: str, name: str) -> CompactionView:
        """Fold the document's log into its snapshot now."""
        folded = await self.store.compact(tenant, name)
        position = (await self.store.positions(tenant, [name]))[name]
        room = self.hub.rooms.get((tenant, name))
        if room is not None:
            room.position.stored(position.head, position.folded)
        return CompactionView(document=name, folded=folded, log_length=await self.store.log_length(tenant, name))

    async def unload(self, tenant: str, name: str) -> UnloadView:
        """Drop an idle document from this node's memory now (its next use loads it from the store).

        A node unloads only its own rooms: a document loaded on another node is refused with the nodes that
        hold it (``document_on_other_node``); it leaves their memory by itself once idle.
        """
        room = self.hub.rooms.get((tenant, name))
        if room is None:
            _, others, _ = await self._nodes(datetime.now(UTC))
            holders = [snapshot.node for snapshot in others
                       if any(view.document == name for view in snapshot.rooms.get(tenant, ()))]
            if holders:
                raise AdminError(ErrorCode.DOCUMENT_ON_OTHER_NODE, (
                    f"{name!r} is not in the memory of node {self.hub.node_id} (asked) but of node "
                    f"{', '.join(holders)}; a node unloads only its own rooms, and an idle one leaves by itself "
                    f"after FIELDSYNC_IDLE_UNLOAD_SECONDS ({self.hub.config.idle_unload_seconds:g} s)"))
            raise AdminError(ErrorCode.DOCUMENT_NOT_LOADED, f"{name!r} is not in this node's memory")
        if not self.hub.registry.unload((tenant, name)):
            raise AdminError(ErrorCode.DOCUMENT_IN_USE, f"{name!r} has {len(room.subscribers)} subscribers and "
                             f"{room.pending_writes} writes waiting; it is unloaded once idle")
        return UnloadView(document=name, unloaded=True)

    async def revoke(self, tenant: str, device: str, *, by: str) -> RevocationView:
        await self.devices.flush()  # a device that connected a moment ago is in the table before it is revoked
        record, closed = await self.revocations.revoke(self.hub, tenant, device, by=by)
        return RevocationView(device=self._device(record, await self._elsewhere(tenant)), closed=closed)

    async def restore(self, tenant: str, device: str) -> RevocationView:
        record = await self.revocations.restore(tenant, device)
        return RevocationView(device=self._device(record, await self._elsewhere(tenant)))

    # -- helpers -----------------------------------------------------------------------------------

    async def _nodes(self, now: datetime) -> tuple[list[NodeView], list[NodeSnapshot], str | None]:
        """This node, the other nodes on the board and their snapshots, and why the board could not be read."""
        nodes = [NodeView(node=self.hub.node_id, local=True, at=now)]
        if self.board is None:
            return nodes, [], None
        try:
            entries = await self.board.read()
        except BoardUnavailable as exc:
            return nodes, [], f"other nodes could not be read: {exc.reason}"
        others = []
        for node, data in sorted(entries.items()):
            if node == self.hub.node_id:
                continue
            try:
                others.append(decode_snapshot(data))
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                log.warning("the admin snapshot of node %s does not decode: %s", node, exc)
        nodes.extend(NodeView(node=snapshot.node, local=False, at=snapshot.at, truncated=snapshot.truncated)
                     for snapshot in others)
        return nodes, others, None

    def snapshot(self) -> NodeSnapshot:
        """What this node posts of itself for the others: every tenant's sockets and rooms, bounded."""
        return take_snapshot(self.hub.node_id, datetime.now(UTC), self.local.connections(), self.local.rooms())

    async def _record(self, tenant: str, device: str) -> DeviceRecord:
        record = await self.store.get_device(tenant, device)
        if record is None:
            raise AdminError(ErrorCode.DEVICE_NOT_FOUND, f"no device {device!r} has been seen in this tenant")
        return record

    def _sessions_of(self, tenant: str, device: str) -> list[Any]:
        return [s for s in list(self.hub.sessions)
                if s.principal is not None and (s.principal.tenant, s.principal.device) == (tenant, device)]

    async def _elsewhere(self, tenant: str) -> Counter[str]:
        """The tenant's sockets per device on the other nodes, as of their snapshots."""
        _, others, _ = await self._nodes(datetime.now(UTC))
        return Counter(view.device for snapshot in others for view in snapshot.connections.get(tenant, ()))

    def _device(self, record: DeviceRecord, elsewhere: Counter[str]) -> DeviceView:
        return DeviceView(
            device=record.device, user=record.user, first_seen=record.first_seen_at, last_seen=record.last_seen_at,
            client_version=record.client_version, last_sync=record.last_synced_at, documents=record.documents,
            scopes=record.scopes, revoked=record.revoked, revoked_at=record.revoked_at, revoked_by=record.revoked_by,
            connections=len(self._sessions_of(record.tenant, record.device)) + elsewhere[record.device],
        )

