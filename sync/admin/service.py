"""The operators' view of one hub node and their actions on it, for one tenant at a time.

Everything is read from the hub's own state (its sockets, rooms and counters) and from the store; actions go
through the same parts the hub uses (the store's compaction, the rooms' unload, revocation).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sync.admin.activity import Activity
from sync.admin.devices import DeviceTracker
from sync.admin.local import LocalViews
from sync.admin.revocation import RevocationCheck, Revocations
from sync.admin.views import (
    CompactionView, ConflictCount, ConnectionView, CountsView, DevicePage, DeviceScopesView, DeviceView,
    RevocationView, RoomView, ScopeMembershipView, UnloadView,
)
from sync.access import TokenVerifier
from sync.errors import AdminError
from sync.hooks import Extension
from sync.protocol.codes import ErrorCode
from sync.store import DeviceRecord, Store

__all__ = ["Admin"]

MAX_PAGE = 500


class Admin:
    """Built before the hub (its extensions and token check go into ``Hub(...)``), then ``bind``-ed to it."""

    def __init__(self, store: Store, verifier: TokenVerifier, *, device_interval: float = 1.0) -> None:
        self.store = store
        self.revocations = Revocations(store)
        self.verifier = RevocationCheck(verifier, revocations=self.revocations)
        """The token check to give the hub: the server's verifier, refusing revoked devices."""
        self.hub: Any = None
        self.activity = Activity(self._sockets)
        self.devices = DeviceTracker(store, self._sockets, interval=device_interval)
        self.local = LocalViews(self.activity)

    @property
    def extensions(self) -> list[Extension]:
        return [self.revocations, self.activity, self.devices]

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

    def connections(self, tenant: str) -> list[ConnectionView]:
        return sorted((view for _, view in self.local.connections(tenant)), key=lambda view: view.since)

    def rooms(self, tenant: str) -> list[RoomView]:
        return sorted((view for _, view in self.local.rooms(tenant)), key=lambda view: view.document)

    async def devices_page(self, tenant: str, *, user: str | None = None, revoked: bool | None = None,
                           seen_since: datetime | None = None, after: str | None = None,
                           limit: int = 100) -> DevicePage:
        limit = max(1, min(limit, MAX_PAGE))
        await self.devices.flush()
        records = await self.store.list_devices(tenant, user=user, revoked=revoked, seen_since=seen_since, after=after,
                                                limit=limit + 1)
        page = [self._device(record) for record in records[:limit]]
        return DevicePage(devices=page, next=page[-1].device if len(records) > limit else None)

    async def device(self, tenant: str, device: str) -> DeviceView:
        await self.devices.flush()
        return self._device(await self._record(tenant, device))

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
        room = self.hub.rooms.get((tenant, name))
        if room is not None:
            room.log_length = max(0, room.log_length - folded)
        return CompactionView(document=name, folded=folded, log_length=await self.store.log_length(tenant, name))

    def unload(self, tenant: str, name: str) -> UnloadView:
        """Drop an idle document from memory now (its next use loads it from the store)."""
        room = self.hub.rooms.get((tenant, name))
        if room is None:
            raise AdminError(ErrorCode.DOCUMENT_NOT_LOADED, f"{name!r} is not in this node's memory")
        if not self.hub.registry.unload((tenant, name)):
            raise AdminError(ErrorCode.DOCUMENT_IN_USE, f"{name!r} has {len(room.subscribers)} subscribers and "
                             f"{room.pending_writes} writes waiting; it is unloaded once idle")
        return UnloadView(document=name, unloaded=True)

    async def revoke(self, tenant: str, device: str, *, by: str) -> RevocationView:
        await self.devices.flush()  # a device that connected a moment ago is in the table before it is revoked
        record, closed = await self.revocations.revoke(self.hub, tenant, device, by=by)
        return RevocationView(device=self._device(record), closed=closed)

    async def restore(self, tenant: str, device: str) -> RevocationView:
        return RevocationView(device=self._device(await self.revocations.restore(tenant, device)))

    # -- helpers -----------------------------------------------------------------------------------

    async def _record(self, tenant: str, device: str) -> DeviceRecord:
        record = await self.store.get_device(tenant, device)
        if record is None:
            raise AdminError(ErrorCode.DEVICE_NOT_FOUND, f"no device {device!r} has been seen in this tenant")
        return record

    def _sessions_of(self, tenant: str, device: str) -> list[Any]:
        return [s for s in list(self.hub.sessions)
                if s.principal is not None and (s.principal.tenant, s.principal.device) == (tenant, device)]

    def _device(self, record: DeviceRecord) -> DeviceView:
        return DeviceView(
            device=record.device, user=record.user, first_seen=record.first_seen_at, last_seen=record.last_seen_at,
            client_version=record.client_version, last_sync=record.last_synced_at, documents=record.documents,
            scopes=record.scopes, revoked=record.revoked, revoked_at=record.revoked_at, revoked_by=record.revoked_by,
            connections=len(self._sessions_of(record.tenant, record.device)),
        )

