"""The review queue: conflicts a person must settle (two different final statuses, say), and settling them.

A resolution is a normal hub update: the chosen value is written under the hub's clock, newer than every
write of the field, so it wins on every replica; it is sent to every subscriber and stored before the
conflict is marked resolved. (HTTP access comes with the admin API.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from conflict import LIFECYCLES, DomainError, record_type_for
from sync.protocol.codes import ErrorCode
from sync.errors import ReviewError
from sync.protocol import encode_sync_update
from sync.documents.room import Room
from sync.referee.referee import Referee
from sync.store import ConflictRecord, ConflictStore

Acquire = Callable[[str, str], Awaitable[Room]]
Persist = Callable[[Room, bytes], "asyncio.Future[None]"]

OPEN = "open"


class Review:
    """The review operations of one hub: over the conflicts' store, the rooms and the write path's persist."""

    def __init__(self, store: ConflictStore, referee: Referee, *, acquire: Acquire, persist: Persist) -> None:
        self._store = store
        self._referee = referee
        self._acquire = acquire
        self._persist = persist

    async def queue(self, tenant: str, *, limit: int = 1000) -> list[ConflictRecord]:
        """Open conflicts of ``tenant`` that need a person, oldest first."""
        await self._referee.conflicts.flush()
        return await self._store.list_conflicts(tenant, status=OPEN, needs_review=True, limit=limit)

    async def resolve(self, tenant: str, conflict_id: int, value: Any, resolved_by: str) -> ConflictRecord:
        """Write ``value`` into the conflict's field for every replica, then mark the conflict resolved.

        Raises ``ReviewError`` when the conflict does not exist, is already resolved, or ``value`` is not a
        status of the record's lifecycle (for a status conflict) or not a string (for a text).
        """
        await self._referee.conflicts.flush()
        row = await self._store.get_conflict(tenant, conflict_id)
        if row is None:
            raise ReviewError(ErrorCode.CONFLICT_NOT_FOUND, f"no conflict {conflict_id} in this tenant")
        if row.status != OPEN:
            raise ReviewError(ErrorCode.CONFLICT_RESOLVED, f"conflict {conflict_id} is already {row.status}")
        try:
            kind = record_type_for(row.name)
        except DomainError as exc:
            raise ReviewError(ErrorCode.UNKNOWN_RECORD_TYPE, str(exc)) from None
        lifecycle = LIFECYCLES.get(kind.name)
        if row.field == kind.status_field and lifecycle is not None and value not in lifecycle.statuses:
            raise ReviewError(ErrorCode.INVALID_RESOLUTION, f"{value!r:.60} is not a status of a {kind.name}")
        if row.field in kind.text_roots and not isinstance(value, str):
            raise ReviewError(ErrorCode.INVALID_RESOLUTION, f"{kind.name}.{row.field} is a text: choose a string")
        room = await self._acquire(tenant, row.name)
        update = self._referee.writer.resolve(room.doc, kind, row.field, value, by=resolved_by)
        if update is not None:
            room.broadcast(encode_sync_update(room.name, update))
            await asyncio.shield(self._persist(room, update))  # shared with other writes: never cancel it
        resolved = await self._store.resolve_conflict(tenant, conflict_id, {"value": value}, resolved_by)
        if resolved is None:  # another reviewer was faster; both choices were written, the later one stands
            raise ReviewError(ErrorCode.CONFLICT_RESOLVED, f"conflict {conflict_id} was resolved meanwhile")
        return resolved
