"""Scope queries on SQLAlchemy: the part of ``SqlStore`` that numbers projection saves and finds scope members."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from sync.store.matches import Match, MatchSet
from sync.store.records import ProjectionChange
from sync.store.tables import projection_sequences, projections


__all__ = ["ScopeQueries"]

# The record map only: a body also holds lists and texts, which scopes never look at.
_RECORD = projections.c.body["record"].label("record")
_CHANGE_COLUMNS = (
    projections.c.name, projections.c.type, projections.c.status, projections.c.assignee, _RECORD, projections.c.seq,
)


class ScopeQueries:
    """Mixed into ``SqlStore``, which provides ``_transaction`` and ``_insert``."""

    def _transaction(self, action: str, *, exclusive: bool = False) -> AbstractAsyncContextManager[AsyncConnection]:
        raise NotImplementedError

    def _insert(self, table: Any) -> Any:
        raise NotImplementedError

    async def _number(self, conn: AsyncConnection, tenant: str, count: int) -> int:
        """Take ``count`` numbers from ``tenant``'s counter in ``conn``'s transaction; returns the last one.

        One upsert: on Postgres the counter's row stays locked until the transaction ends, so the next save
        of the tenant numbers after this one commits.
        """
        stmt = self._insert(projection_sequences).values(tenant=tenant, seq=count)
        stmt = stmt.on_conflict_do_update(
            index_elements=[projection_sequences.c.tenant],
            set_={"seq": projection_sequences.c.seq + stmt.excluded.seq},
        ).returning(projection_sequences.c.seq)
        return int((await conn.execute(stmt)).scalar_one())

    async def projection_seq(self, tenant: str) -> int:
        query = select(projection_sequences.c.seq).where(projection_sequences.c.tenant == tenant)
        async with self._transaction("projection_seq") as conn:
            seq = await conn.scalar(query)
        return int(seq or 0)

    async def scope_members(self, tenant: str, scope: MatchSet) -> list[str]:
        # The indexed columns narrow the rows in SQL; record fields and deletion are checked here.
        query = select(*_CHANGE_COLUMNS).where(projections.c.tenant == tenant, _any_match(scope.matches))
        async with self._transaction("scope_members") as conn:
            result = await conn.execute(query)
            rows = result.all()
        return sorted(
            row.name for row in rows
            if scope.accepts(row.name, row.type, row.status, row.assignee, _record(row.record))
        )

    async def projections_changed_since(self, tenant: str, seq: int, *, limit: int = 1000) -> list[ProjectionChange]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        query = (
            select(*_CHANGE_COLUMNS)
            .where(projections.c.tenant == tenant, projections.c.seq > seq)
            .order_by(projections.c.seq)
            .limit(limit)
        )
        async with self._transaction("projections_changed_since") as conn:
            result = await conn.execute(query)
            rows = result.all()
        return [
            ProjectionChange(row.name, row.type, row.status, row.assignee, _record(row.record), int(row.seq))
            for row in rows
        ]


def _any_match(matches: Sequence[Match]) -> ColumnElement[bool]:
    conditions = []
    for match in matches:
        parts: list[ColumnElement[bool]] = []
        if match.type != "*":
            parts.append(projections.c.type == match.type)
            if match.id is not None:
                parts.append(projections.c.name == f"{match.type}:{match.id}")
        if match.statuses is not None:
            parts.append(projections.c.status.in_(sorted(str(status) for status in match.statuses)))
        if match.assignee is not None:
            parts.append(projections.c.assignee == match.assignee)
        if not parts:
            return true()  # this match takes any row: no narrowing is possible
        conditions.append(and_(*parts))
    return or_(*conditions) if conditions else false()


def _record(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
