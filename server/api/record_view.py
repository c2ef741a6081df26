"""A record as the REST API shows it: JSON of a projection, with ``overdue`` judged at the request's instant."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from conflict import RECORD_TYPES, is_overdue
from sync import Projection

__all__ = ["etag_of", "etag_matches", "list_item", "record_json"]

_HEADLINE = ("name", "type", "status", "assignee")


def _overdue(projection: Projection, record: dict[str, Any], now: datetime) -> bool:
    kind = RECORD_TYPES.get(projection.type)
    due_field = kind.due_field if kind is not None else None
    return is_overdue(projection.type, projection.status, record.get(due_field) if due_field else None, now)


def _headline(projection: Projection, record: dict[str, Any], now: datetime) -> dict[str, Any]:
    view = {name: getattr(projection, name) for name in _HEADLINE}
    view["updated_at"] = projection.updated_at.isoformat()
    view["overdue"] = _overdue(projection, record, now)
    return view


def _record_map(projection: Projection) -> dict[str, Any]:
    record = projection.body.get("record")
    return record if isinstance(record, dict) else {}


def list_item(projection: Projection, fields: Sequence[str] | None, now: datetime) -> dict[str, Any]:
    """One entry of a list page: the headline and the record map (only ``fields`` of it when given)."""
    record = _record_map(projection)
    view = _headline(projection, record, now)
    view["record"] = dict(record) if fields is None else {name: record[name] for name in fields if name in record}
    return view


def record_json(projection: Projection, now: datetime) -> dict[str, Any]:
    """The whole record: headline, record map, current list entries and texts, validation problems."""
    record = _record_map(projection)
    view = _headline(projection, record, now)
    view["record"] = record
    for key, value in projection.body.items():
        if key not in ("record", "overdue"):
            view[key] = value
    return view


def etag_of(view: dict[str, Any]) -> str:
    """A strong ETag over the JSON the client would receive."""
    digest = hashlib.blake2b(json.dumps(view, sort_keys=True, default=str).encode(), digest_size=12).hexdigest()
    return f'"{digest}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak comparison, as RFC 9110 asks for GET)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    tags = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return etag in tags
