"""``/api/records``: lists with filters and keyset pages, one record with its ETag, and its history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from conflict import parse_document_name
from conflict.errors import InvalidDocumentName
from server.api.cursor import fingerprint
from server.api.errors import BadParameter, Forbidden, NotFound
from server.api.history import record_history
from server.api.answers import AnswerCache
from server.api.listing import PageRequest, decode_page, encode_page, render_page, select_page
from server.api.params import (
    MAIN_TYPES, check_aware, check_known, check_text, parse_fields, parse_sort, parse_status, parse_type,
)
from server.api.record_view import etag_matches, etag_of, record_json
from server.api.visibility import readable, visibility_key
from sync import Hub, Principal, Projection, RecordFilter

__all__ = ["RecordsController"]

_LIST_PARAMS = frozenset({
    "type", "status", "assignee", "team", "due_before", "overdue", "updated_since", "q", "fields", "sort", "limit",
    "cursor",
})
HttpRequest = Request[Any, Any, Any]
Caller = NamedDependency[Principal]
# The list's query parameters, each with its description for the OpenAPI document.
_Type = Annotated[str | None, QueryParameter(name="type", description=f"Record type: {', '.join(MAIN_TYPES)}.")]
_Status = Annotated[str | None, QueryParameter(description="A status of the record type's lifecycle (`OPEN`).")]
_Assignee = Annotated[
    str | None, QueryParameter(description="The assignee (a work order's technician, a claim's assignee or adjuster, "
                                           "a policy's agent).")
]
_Team = Annotated[str | None, QueryParameter(description="The record's `team` field.")]
_DueBefore = Annotated[
    datetime | None, QueryParameter(description="Due strictly before this instant (RFC 3339 with a zone).")
]
_Overdue = Annotated[
    bool | None, QueryParameter(description="`true`: open and past due now; `false`: every other record.")
]
_UpdatedSince = Annotated[
    datetime | None, QueryParameter(description="Changed at or after this instant (RFC 3339 with a zone).")
]
_Q = Annotated[
    str | None, QueryParameter(description="Text in the title, number or customer, any case (1-200 characters).")
]
_Fields = Annotated[str | None, QueryParameter(description="Comma-separated record fields to return (default: all).")]
_Sort = Annotated[
    str, QueryParameter(description="`updated_at`, `name`, `status`, `assignee` or `due_at`, with `-` before it for "
                                    "descending; the record's name breaks ties.")
]
_Limit = Annotated[int, QueryParameter(ge=1, le=100, description="Page size, 1-100.")]
_Cursor = Annotated[str | None, QueryParameter(description="`next_cursor` of the previous page.")]
_NAME = PathParameter(description="The record's document name, `<type>:<id>` (e.g. `work_order:WO-1042`).")


class RecordsController(Controller):
    """Records of the token's tenant, as projected from their documents."""

    path = "/api/records"
    tags = ["records"]

    @get(
        "/",
        summary="List records",
        description=(
            "Records of the token's tenant that it may read, matching every filter given, in pages. "
            "Pass `next_cursor` back as `cursor` (with the same filters and sort) for the next page; it is null "
            "on the last one. Pages never repeat or skip a record whose sort value does not change while paging. "
            "Pages are cached per tenant until a record of the tenant changes (not those filtered by `overdue`)."
        ),
    )
    async def list_records(
        self,
        request: HttpRequest,
        principal: Caller,
        record_type: _Type = None,
        status: _Status = None,
        assignee: _Assignee = None,
        team: _Team = None,
        due_before: _DueBefore = None,
        overdue: _Overdue = None,
        updated_since: _UpdatedSince = None,
        q: _Q = None,
        fields: _Fields = None,
        sort: _Sort = "-updated_at",
        limit: _Limit = 20,
        cursor: _Cursor = None,
    ) -> dict[str, Any]:
        check_known(request, _LIST_PARAMS)
        now = datetime.now(UTC)
        record_type = parse_type(record_type)
        filters = {
            "type": record_type,
            "status": parse_status(status, record_type),
            "assignee": check_text("assignee", assignee),
            "team": check_text("team", team),
            "due_before": check_aware("due_before", due_before),
            "overdue": overdue,
            "updated_since": check_aware("updated_since", updated_since),
            "q": check_text("q", q),
        }
        page = PageRequest(
            where=RecordFilter(**filters, now=now),
            order=parse_sort(sort),
            sort=sort,
            fingerprint=fingerprint(filters),
            limit=limit,
            cursor=check_text("cursor", cursor, max_chars=2048),
            fields=parse_fields(fields, record_type),
            now=now,
        )
        hub: Hub = request.app.state.hub
        if overdue is not None:
            # judged by the clock at each request: nothing to keep
            return render_page(await select_page(hub.store, principal, page), page.fields, now)

        async def compute() -> tuple[bytes, float | None]:
            return encode_page(await select_page(hub.store, principal, page)), None

        answers: AnswerCache = request.app.state.answers
        key = f"list:{visibility_key(principal)}:{page.fingerprint}:{sort}:{limit}:{page.cursor or ''}"
        return render_page(decode_page(await answers.fetch(principal.tenant, key, compute)), page.fields, now)

    @get(
        "/{name:str}",
        summary="Read one record",
        description=(
            "The record's fields, current list entries and texts, with `overdue` judged now. The `ETag` header "
            "changes when any of it does; send it as `If-None-Match` to get 304 Not Modified instead."
        ),
        responses=None,
    )
    async def get_record(
        self, request: HttpRequest, principal: Caller, name: Annotated[str, _NAME]
    ) -> Response[Any]:
        check_known(request, ())
        projection = await _readable_projection(request, principal, name)
        view = record_json(projection, datetime.now(UTC))
        etag = etag_of(view)
        headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
        if etag_matches(request.headers.get("if-none-match"), etag):
            return Response(None, status_code=HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(view, headers=headers)

    @get(
        "/{name:str}/history",
        summary="Who changed what, and when",
        description=(
            "Every recorded write of each field (from the field stamps: value, user, device, time), the status "
            "changes the hub accepted, and when the updates still in the log were stored, newest first."
        ),
    )
    async def get_history(
        self, request: HttpRequest, principal: Caller, name: Annotated[str, _NAME]
    ) -> dict[str, Any]:
        check_known(request, ())
        projection = await _readable_projection(request, principal, name)
        hub: Hub = request.app.state.hub
        return await record_history(hub.store, projection)


async def _readable_projection(request: HttpRequest, principal: Principal, name: str) -> Projection:
    try:
        parsed = parse_document_name(name)
    except InvalidDocumentName:
        raise BadParameter("name", "not a record name '<type>:<id>'") from None
    if parsed.part is not None or parsed.record_type not in MAIN_TYPES:
        raise NotFound(f"no record {name[:200]!r}")
    hub: Hub = request.app.state.hub
    projection = await hub.store.get_projection(principal.tenant, name)
    if projection is None:
        raise NotFound(f"no record {name[:200]!r}")
    record = projection.body.get("record")
    if not readable(principal, projection.type, record if isinstance(record, dict) else {}):
        raise Forbidden("this token may not read this record")
    return projection
