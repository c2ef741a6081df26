"""A record's history: the writes its field stamps record, the status changes, and the update log's times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pycrdt import Doc

from conflict import parse_clocks, read_document
from sync import Projection, Store

__all__ = ["record_history"]

_LOG_TIMES = 100

async def record_history(store: Store, projection: Projection) -> dict[str, Any]:
    """``{"name", "writes", "status_changes", "log"}``; every list newest first."""
    stored = await store.load(projection.tenant, projection.name)
    doc = Doc()
    for update in ([stored.snapshot] if stored.snapshot is not None else []) + list(stored.updates):
        doc.apply_update(update)
    clocks = read_document(doc, None).clocks
    table = parse_clocks(clocks)
    writes = [
        {
            "field": stamp.field,
            "value": stamp.value,
            "user": stamp.user,
            "device": stamp.device,
            "roles": sorted(stamp.roles),
            "at": datetime.fromtimestamp(stamp.hlc.wall_ms / 1000, UTC).isoformat(),
            "hlc": stamp.hlc.encode(),
        }
        for stamps in table.by_field.values()
        for stamp in stamps
    ]
    writes.sort(key=lambda write: write["hlc"], reverse=True)
    changes = projection.body.get("history")
    status_changes = list(reversed(changes)) if isinstance(changes, list) else []
    times = await store.update_times(projection.tenant, projection.name, limit=_LOG_TIMES)
    return {
        "name": projection.name,
        "writes": writes,
        "status_changes": status_changes,
        "log": {"stored_at": [at.isoformat() for at in times], "compacted": stored.snapshot is not None},
    }
