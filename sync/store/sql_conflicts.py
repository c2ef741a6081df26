"""The ``conflicts`` table on SQLAlchemy: the part of ``SqlStore`` that records conflicts and their review."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from sync.store.records import ConflictRecord
from sync.store.tables import conflicts

__all__ = ["ConflictTable"]

_COLUMNS = (
    "id", "tenant", "name", "field", "key", "kind", "code", "values", "winner", "needs_review", "status",
    "created_at", "resolved_at", "resolved_by", "resolution",
)
OPEN, RESOLVED = "open", "resolved"


class ConflictTable:
    """Mixed into ``SqlStore``, which provides ``_transaction`` and ``_insert``."""

    def _transaction(self, action: str, *, exclusive: bool = False) -> AbstractAsyncContextManager[AsyncConnection]:
        raise NotImplementedError

    def _insert(self, table: Any) -> Any:
        raise NotImplementedError

    async def save_conflicts(self, rows: Sequence[ConflictRecord]) -> None:
        if not rows:
            return
        values = []
        for row in rows:
            if row.created_at.tzinfo is None:
                raise ValueError("ConflictRecord.created_at must be timezone-aware")
            values.append({column: getattr(row, column) for column in _COLUMNS if column != "id"})
        stmt = self._insert(conflicts).on_conflict_do_nothing(
            index_elements=[conflicts.c.tenant, conflicts.c.name, conflicts.c.key]
        )
        async with self._transaction("save_conflicts", exclusive=True) as conn:
            await conn.execute(stmt, values)

    async def list_conflicts(
        self,
        tenant: str,
        *,
        status: str | None = None,
        needs_review: bool | None = None,
        name: str | None = None,
        limit: int = 1000,
    ) -> list[ConflictRecord]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        query = select(conflicts).where(conflicts.c.tenant == tenant)
        if status is not None:
            query = query.where(conflicts.c.status == status)
        if needs_review is not None:
            query = query.where(conflicts.c.needs_review == needs_review)
        if name is not None:
            query = query.where(conflicts.c.name == name)
        async with self._transaction("list_conflicts") as conn:
            result = await conn.execute(query.order_by(conflicts.c.id).limit(limit))
            return [_record(row) for row in result]

    async def count_conflicts(self, tenant: str) -> dict[tuple[str, str | None, str], int]:
        query = (
            select(conflicts.c.kind, conflicts.c.code, conflicts.c.status, func.count())
            .where(conflicts.c.tenant == tenant)
            .group_by(conflicts.c.kind, conflicts.c.code, conflicts.c.status)
        )
        async with self._transaction("count_conflicts") as conn:
            return {(kind, code, status): int(count) for kind, code, status, count in await conn.execute(query)}

    async def get_conflict(self, tenant: str, conflict_id: int) -> ConflictRecord | None:
        async with self._transaction("get_conflict") as conn:
            return await _fetch(conn, tenant, conflict_id)

    async def resolve_conflict(
        self, tenant: str, conflict_id: int, resolution: dict[str, Any], by: str
    ) -> ConflictRecord | None:
        stmt = (
            update(conflicts)
            .where(conflicts.c.tenant == tenant, conflicts.c.id == conflict_id, conflicts.c.status == OPEN)
            .values(status=RESOLVED, resolved_at=datetime.now(UTC), resolved_by=by, resolution=resolution)
        )
        async with self._transaction("resolve_conflict", exclusive=True) as conn:
            changed = (await conn.execute(stmt)).rowcount
            return await _fetch(conn, tenant, conflict_id) if changed else None


async def _fetch(conn: AsyncConnection, tenant: str, conflict_id: int) -> ConflictRecord | None:
    query = select(conflicts).where(conflicts.c.tenant == tenant, conflicts.c.id == conflict_id)
    row = (await conn.execute(query)).first()
    return _record(row) if row is not None else None


def _record(row: Row[Any]) -> ConflictRecord:
    return ConflictRecord(**{column: row._mapping[column] for column in _COLUMNS})
