"""One page of records for a principal: the store's keyset page, filtered by ``readable``, with its cursor.

Rows the principal may not read are skipped without costing the page its size: the store is asked again
after the last row examined, a bounded number of times; when that bound is hit the page is short and its
cursor continues where the examination stopped, so nothing is ever skipped for good.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from server.api.cursor import decode_cursor, encode_cursor
from server.api.record_view import list_item
from server.api.visibility import readable
from sync import ListedRecord, Principal, Projection, RecordFilter, RecordListing, RecordOrder

__all__ = ["Page", "PageRequest", "decode_page", "encode_page", "render_page", "select_page"]

_MAX_ROUNDS = 5


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A validated list request: filters, sort, page size, where to continue, fields to show."""

    where: RecordFilter
    order: RecordOrder
    sort: str
    """The ``sort`` parameter as given (``-updated_at``), carried in cursors."""
    fingerprint: str
    limit: int
    cursor: str | None
    fields: Sequence[str] | None
    now: datetime


class Page(msgspec.Struct, frozen=True):
    """The projections of one page for one principal and the cursor of the next (what the cache keeps)."""

    rows: list[Projection]
    next_cursor: str | None


_PAGE_DECODER = msgspec.json.Decoder(Page)


def encode_page(page: Page) -> bytes:
    return msgspec.json.encode(page)


def decode_page(data: bytes) -> Page:
    return _PAGE_DECODER.decode(data)


def render_page(page: Page, fields: Sequence[str] | None, now: datetime) -> dict[str, Any]:
    """``{"items": [...], "next_cursor": str | None}``, with ``overdue`` judged at ``now``."""
    return {"items": [list_item(row, fields, now) for row in page.rows], "next_cursor": page.next_cursor}


async def select_page(store: RecordListing, principal: Principal, request: PageRequest) -> Page:
    """The page ``request`` asks for, of what ``principal`` may read (the tenant is the principal's)."""
    after = decode_cursor(request.cursor, request.sort, request.fingerprint) if request.cursor else None
    shown: list[ListedRecord] = []
    position = after
    exhausted = False
    for _ in range(_MAX_ROUNDS):
        batch = await store.list_records(
            principal.tenant, request.where, request.order, after=position, limit=request.limit + 1
        )
        for listed in batch:
            position = (listed.key, listed.projection.name)
            record = listed.projection.body.get("record")
            if readable(principal, listed.projection.type, record if isinstance(record, dict) else {}):
                shown.append(listed)
                if len(shown) > request.limit:
                    break
        if len(shown) > request.limit or len(batch) <= request.limit:
            exhausted = len(batch) <= request.limit and len(shown) <= request.limit
            break
    if len(shown) > request.limit:
        last = shown[request.limit - 1]
        shown = shown[:request.limit]
        next_position: tuple[Any, str] | None = (last.key, last.projection.name)
    elif exhausted or position is None or position == after:
        next_position = None
    else:
        next_position = position
    cursor = None if next_position is None else encode_cursor(request.sort, request.fingerprint, *next_position)
    return Page([listed.projection for listed in shown], cursor)
