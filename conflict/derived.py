"""Fields the hub derives from a record: overdue, and the history entry of a status change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from conflict.hlc import HlcTimestamp
from conflict.lifecycle import LIFECYCLES
from conflict.projection import ProjectionFields
from conflict.records.common import Timestamp
from conflict.records.registry import lookup_record_type


class DerivedFields(msgspec.Struct, frozen=True):
    """What the hub adds to a projection at a given instant."""

    overdue: bool


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    return now


def is_overdue(record_type: str, status: str | None, due: Any, now: datetime) -> bool:
    """Whether a record in ``status`` that is due at ``due`` (a datetime or RFC 3339 text) is overdue at ``now``.

    Overdue means still open (awaiting work, per the lifecycle) and past due. A record without a status, a
    due time, or a lifecycle is never overdue; an unreadable due time counts as none.
    """
    _aware(now)
    lifecycle = LIFECYCLES.get(record_type)
    if lifecycle is None or status not in lifecycle.open or due is None:
        return False
    try:
        due_at = msgspec.convert(due, Timestamp)
    except msgspec.ValidationError:
        return False
    return due_at < now


def derived_fields(projection: ProjectionFields, now: datetime) -> DerivedFields:
    """The derived fields of ``projection`` at ``now``."""
    _aware(now)
    if projection.type is None or projection.part is not None or projection.type not in LIFECYCLES:
        return DerivedFields(overdue=False)
    due_field = lookup_record_type(projection.type).due_field
    due = projection.body.get(due_field) if due_field else None
    return DerivedFields(overdue=is_overdue(projection.type, projection.status, due, now))


def status_change_entry(
    old: str | None, new: str, *, by: str, at: datetime, hlc: HlcTimestamp | None = None
) -> dict[str, Any]:
    """The ``history`` entry the hub appends when it accepts a status change."""
    entry: dict[str, Any] = {"old": old, "new": new, "by": by, "at": _aware(at).isoformat()}
    if hlc is not None:
        entry["hlc"] = hlc.encode()
        entry["device"] = hlc.node
    return entry
