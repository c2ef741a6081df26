"""Local projections: one row per record (type, status, assignee, updated_at columns plus a JSON body).

The row is what ``conflict.project_document`` makes of the document, so a device and the hub read a record
the same way; it is rewritten in the same transaction as the document state it comes from.
"""

from __future__ import annotations

from datetime import datetime, timezone
from collections.abc import Collection, Sequence
from typing import Any

import aiosqlite
import msgspec

from client_sdk.events import RecordView
from conflict import ProjectionFields

SCHEMA = """
CREATE TABLE IF NOT EXISTS projections (
    name TEXT PRIMARY KEY,
    type TEXT,
    record_id TEXT,
    status TEXT,
    assignee TEXT,
    deleted INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS projections_by_type_status ON projections (type, status);
CREATE INDEX IF NOT EXISTS projections_by_assignee ON projections (assignee);
CREATE INDEX IF NOT EXISTS projections_by_updated_at ON projections (updated_at);
"""

#: The scalar field a delete sets; the record stays (a tombstone), so every replica learns of the delete.
DELETED_FIELD = "deleted"

_COLUMNS = "name, type, record_id, status, assignee, deleted, updated_at, body"
_encoder = msgspec.json.Encoder(order="sorted")
_decoder = msgspec.json.Decoder(dict[str, Any])


def _view(row: aiosqlite.Row | tuple) -> RecordView:
    name, kind, record_id, status, assignee, deleted, updated_at, body = row
    return RecordView(
        name=name,
        type=kind,
        id=record_id,
        status=status,
        assignee=assignee,
        deleted=bool(deleted),
        updated_at=datetime.fromtimestamp(updated_at, timezone.utc),
        body=_decoder.decode(body),
    )


async def save(db: aiosqlite.Connection, fields: ProjectionFields, updated_at: float) -> RecordView:
    """Insert or replace the row of ``fields.name``; returns it as the app will read it."""
    deleted = fields.body.get(DELETED_FIELD) is True
    row = (
        fields.name, fields.type, fields.id, fields.status, fields.assignee, int(deleted), updated_at,
        _encoder.encode(fields.body).decode(),
    )
    await db.execute(f"INSERT OR REPLACE INTO projections ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
    return _view(row)


async def get(db: aiosqlite.Connection, name: str) -> RecordView | None:
    async with db.execute(f"SELECT {_COLUMNS} FROM projections WHERE name = ?", (name,)) as cursor:
        row = await cursor.fetchone()
    return None if row is None else _view(row)


async def delete(db: aiosqlite.Connection, names: Collection[str]) -> None:
    """Remove the rows of ``names`` (their documents left the replica)."""
    await db.executemany("DELETE FROM projections WHERE name = ?", [(name,) for name in names])


async def query(
    db: aiosqlite.Connection,
    *,
    type: str | None = None,
    status: str | None = None,
    assignee: str | None = None,
    updated_since: datetime | None = None,
    include_deleted: bool = False,
    limit: int | None = None,
    subscriptions: Sequence[str] | None = None,
) -> list[RecordView]:
    """Rows matching every given filter, oldest ``updated_at`` first (``updated_since`` is inclusive).

    ``subscriptions`` keeps the members of those scope subscriptions (``client_sdk.replica.scopes``' table).
    """
    where: list[str] = []
    args: list[Any] = []
    if subscriptions is not None:
        where.append(f"name IN (SELECT name FROM scope_members WHERE id IN ({','.join('?' * len(subscriptions))}))")
        args.extend(subscriptions)
    for column, value in (("type", type), ("status", status), ("assignee", assignee)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    if updated_since is not None:
        if updated_since.tzinfo is None:
            raise ValueError("updated_since must carry a time zone")
        where.append("updated_at >= ?")
        args.append(updated_since.timestamp())
    if not include_deleted:
        where.append("deleted = 0")
    sql = f"SELECT {_COLUMNS} FROM projections"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY updated_at, name"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    async with db.execute(sql, args) as cursor:
        return [_view(row) async for row in cursor]
