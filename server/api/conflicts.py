"""``/api/conflicts``: the review queue over HTTP. List conflicts and violations; resolve one with a hub write."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK

from conflict import HlcTimestamp, HlcError
from server.api.errors import BadParameter, Conflict, Forbidden, NotFound
from server.api.params import check_known, check_text
from server.api.visibility import may_review, readable, reads_every
from sync import ConflictRecord, ErrorCode, Hub, Principal, ReviewError

__all__ = ["ConflictsController", "conflict_json"]

HttpRequest = Request[Any, Any, Any]
Caller = NamedDependency[Principal]
_PARAMS = frozenset({"status", "kind", "needs_review", "name", "limit"})
_Status = Annotated[str, QueryParameter(description="`open` (default), `resolved` or `all`.")]
_Kind = Annotated[
    str | None, QueryParameter(description="`conflict` (concurrent writes of one field) or `violation` (a write "
                                           "the hub reverted); both when left out.")
]
_NeedsReview = Annotated[
    bool | None, QueryParameter(description="`true`: only those that wait for a person (two final statuses).")
]
_Name = Annotated[str | None, QueryParameter(description="Only the conflicts of this record (`work_order:WO-1`).")]
_Limit = Annotated[int, QueryParameter(ge=1, le=1000, description="At most this many, oldest first (1-1000).")]
_Id = Annotated[int, PathParameter(description="The conflict's `id`.")]


class Resolution(msgspec.Struct, forbid_unknown_fields=True):
    """The value a reviewer chooses: one of the conflict's values, or a new one."""

    value: Any


def _at(value: dict[str, Any]) -> str | None:
    try:
        hlc = HlcTimestamp.decode(value["hlc"])
    except (KeyError, TypeError, HlcError, ValueError):
        return None
    return datetime.fromtimestamp(hlc.wall_ms / 1000, UTC).isoformat()


def conflict_json(row: ConflictRecord) -> dict[str, Any]:
    """A conflict with every value involved (who wrote it, from which device, when)."""
    return {
        "id": row.id, "name": row.name, "field": row.field, "kind": row.kind, "code": row.code,
        "values": [{**value, "at": _at(value)} for value in row.values],
        "winner": row.winner, "needs_review": row.needs_review, "status": row.status,
        "created_at": row.created_at.isoformat(),
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
        "resolved_by": row.resolved_by, "resolution": row.resolution,
    }


async def _record(hub: Hub, principal: Principal, name: str) -> tuple[str, dict[str, Any]]:
    record_type = name.partition(":")[0]
    if reads_every(principal, record_type):
        return record_type, {}
    projection = await hub.store.get_projection(principal.tenant, name)
    record = projection.body.get("record") if projection is not None else None
    return record_type, record if isinstance(record, dict) else {}


class ConflictsController(Controller):
    """Conflicts and violations the referee recorded in the token's tenant, and their resolution."""

    path = "/api/conflicts"
    tags = ["conflicts"]

    @get("/", summary="List conflicts and violations",
         description="Conflicts (both writes, with user, device and time) and violations (the refused write and "
                     "the value kept) of records the token may read. Found within the projection interval.")
    async def list_conflicts(
        self, request: HttpRequest, principal: Caller, status: _Status = "open", kind: _Kind = None,
        needs_review: _NeedsReview = None, name: _Name = None, limit: _Limit = 100,
    ) -> dict[str, Any]:
        check_known(request, _PARAMS)
        if status not in ("open", "resolved", "all"):
            raise BadParameter("status", "one of open, resolved, all")
        if kind not in (None, "conflict", "violation"):
            raise BadParameter("kind", "one of conflict, violation")
        hub: Hub = request.app.state.hub
        rows = await hub.store.list_conflicts(
            principal.tenant, status=None if status == "all" else status, needs_review=needs_review,
            name=check_text("name", name, max_chars=512), limit=limit if kind is None else 1000,
        )
        shown = []
        for row in rows:
            if kind is not None and row.kind != kind:
                continue
            record_type, record = await _record(hub, principal, row.name)
            if readable(principal, record_type, record):
                shown.append(conflict_json(row))
        return {"items": shown[:limit]}

    @post("/{conflict_id:int}/resolve", status_code=HTTP_200_OK, summary="Resolve a conflict",
          description="Write the chosen `value` into the conflict's field as an ordinary hub update that every "
                      "replica receives, then mark the conflict resolved. Only claims managers, supervisors and "
                      "admins who may read the record. 404 unknown conflict, 409 already resolved, 400 a value "
                      "the field's lifecycle refuses.")
    async def resolve(
        self, request: HttpRequest, principal: Caller, conflict_id: _Id, data: JSONBody[Resolution]
    ) -> dict[str, Any]:
        check_known(request, ())
        hub: Hub = request.app.state.hub
        row = await hub.store.get_conflict(principal.tenant, conflict_id)
        if row is None:
            raise NotFound(f"no conflict {conflict_id}")
        record_type, record = await _record(hub, principal, row.name)
        if not readable(principal, record_type, record):
            raise Forbidden("this token may not read the conflict's record")
        if not may_review(principal, record_type, record):
            raise Forbidden("only claims managers, supervisors and admins resolve conflicts")
        try:
            resolved = await hub.resolve_conflict(principal.tenant, conflict_id, data.value, principal.user)
        except ReviewError as exc:
            if exc.code == ErrorCode.CONFLICT_NOT_FOUND:
                raise NotFound(exc.reason) from None
            if exc.code == ErrorCode.CONFLICT_RESOLVED:
                raise Conflict(exc.reason, code=str(exc.code)) from None
            raise BadParameter("value", exc.reason) from None
        return conflict_json(resolved)
