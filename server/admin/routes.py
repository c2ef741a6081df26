"""The admin API under ``/admin``, for the tenant of the admin's token: any node answers for every node."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException
from litestar.params import FromPath, FromQuery, JSONBody

from server.admin.guard import admin_principal, refusal
from sync import (
    Admin, CompactionView, ConnectionsView, CountsView, DevicePage, DeviceScopesView, DeviceView, FieldsyncError,
    Principal, RevocationView, RoomsView, UnloadView,
)

__all__ = ["admin_router"]

# every handler takes the admin behind the request's token (``server.admin.guard``) as ``principal``


class DocumentRequest(msgspec.Struct):
    document: str
    """A document name such as ``work_order:WO-1042``."""


def _admin(request: Request) -> Admin:
    return request.app.state.admin  # type: ignore[no-any-return]


@get("/connections", summary="Sockets on every node")
async def connections(request: Request, principal: NamedDependency[Principal]) -> ConnectionsView:
    """Every socket of the tenant on every hub node, each naming its node: who, which client, since when,
    documents open, traffic each way, acknowledgements pending and sent; ``nodes`` lists the nodes that answered
    (the other nodes' entries are at most a second or two old)."""
    return await _admin(request).connections(principal.tenant)


@get("/rooms", summary="Documents in memory on every node")
async def rooms(request: Request, principal: NamedDependency[Principal]) -> RoomsView:
    """The tenant's documents in each hub node's memory: node, subscribers, size, log length since the snapshot,
    last write; ``nodes`` lists the nodes that answered."""
    return await _admin(request).rooms(principal.tenant)


@get("/devices", summary="Devices, filtered and paged")
async def devices(
    request: Request, principal: NamedDependency[Principal], user: FromQuery[str | None] = None,
    revoked: FromQuery[bool | None] = None, seen_since: FromQuery[datetime | None] = None,
    after: FromQuery[str | None] = None, limit: FromQuery[int] = 100,
) -> DevicePage:
    """Devices the hub has seen, by device id; ``after`` the last id of the previous page (its ``next``)."""
    if seen_since is not None and seen_since.tzinfo is None:
        raise HTTPException("seen_since needs a time zone (e.g. 2026-12-06T08:00:00Z)", status_code=400)
    return await _admin(request).devices_page(principal.tenant, user=user, revoked=revoked, seen_since=seen_since,
                                              after=after, limit=limit)


@get("/devices/{device:str}", summary="One device")
async def device(request: Request, principal: NamedDependency[Principal], device: FromPath[str]) -> DeviceView:
    return await _admin(request).device(principal.tenant, device)


@get("/devices/{device:str}/scopes", summary="A device's scope memberships")
async def device_scopes(
    request: Request, principal: NamedDependency[Principal], device: FromPath[str]
) -> DeviceScopesView:
    """The scopes the device follows: live subscriptions on this node (with their members), and those recorded."""
    return await _admin(request).device_scopes(principal.tenant, device)


@post("/devices/{device:str}/revoke", summary="Revoke a device", status_code=200)
async def revoke(request: Request, principal: NamedDependency[Principal], device: FromPath[str]) -> RevocationView:
    """Close the device's sockets (close code 4403) and refuse its tokens (``device_revoked``) until it is restored;
    kept in the store, so a restart keeps it. What the device has not sent stays in its outbox."""
    return await _admin(request).revoke(principal.tenant, device, by=principal.user)


@post("/devices/{device:str}/restore", summary="Restore a revoked device", status_code=200)
async def restore(request: Request, principal: NamedDependency[Principal], device: FromPath[str]) -> RevocationView:
    return await _admin(request).restore(principal.tenant, device)


@post("/documents/compact", summary="Compact a document now", status_code=200)
async def compact(
    request: Request, principal: NamedDependency[Principal], data: JSONBody[DocumentRequest]
) -> CompactionView:
    """Fold the document's update log into its snapshot now."""
    return await _admin(request).compact(principal.tenant, data.document)


@post("/documents/unload", summary="Unload an idle document", status_code=200)
async def unload(request: Request, principal: NamedDependency[Principal], data: JSONBody[DocumentRequest]) -> UnloadView:
    """Drop the document from this node's memory (409 ``document_in_use`` while it has subscribers, 409
    ``document_on_other_node`` when another node holds it, naming that node)."""
    return await _admin(request).unload(principal.tenant, data.document)


@get("/counts", summary="Refusals and conflicts by code")
async def counts(request: Request, principal: NamedDependency[Principal]) -> CountsView:
    """Refusals this node sent the tenant since it started, and the tenant's stored conflicts and violations."""
    return await _admin(request).counts(principal.tenant)


admin_router = Router(
    path="/admin",
    route_handlers=[connections, rooms, devices, device, device_scopes, revoke, restore, compact, unload, counts],
    dependencies={"principal": Provide(admin_principal)},
    exception_handlers={FieldsyncError: refusal, HTTPException: refusal},
    security=[{"bearer": []}],
    tags=["admin"],
)
