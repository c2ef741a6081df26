"""Listing queries on SQLAlchemy: the part of ``SqlStore`` that pages projections and reads report rows."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, desc, false, func, literal, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from conflict import LIFECYCLES, RECORD_TYPES
from sync.store.listing import ListedRecord, RecordFilter, RecordOrder, ReportRow
from sync.store.records import Projection
from sync.store.tables import UtcDateTime, projections, updates

__all__ = ["ListingQueries"]

_COLUMNS = ("tenant", "name", "type", "status", "assignee", "updated_at", "body")
# Null sort values sort as these, so a keyset position is always a comparable value.
_NO_DUE = datetime(9999, 12, 31, tzinfo=UTC)
_SORT_KEYS: dict[str, ColumnElement[Any]] = {
    "updated_at": projections.c.updated_at,
    "name": projections.c.name,
    "status": func.coalesce(projections.c.status, ""),
    "assignee": func.coalesce(projections.c.assignee, ""),
    "due_at": func.coalesce(projections.c.due_at, literal(_NO_DUE, UtcDateTime())),
}
_REPORT_COLUMNS = (
    projections.c.name, projections.c.type, projections.c.status, projections.c.assignee, projections.c.due_at,
    projections.c.status_since, projections.c.amount,
)


class ListingQueries:
    """Mixed into ``SqlStore``, which provides ``_transaction``."""

    def _transaction(self, action: str, *, exclusive: bool = False) -> AbstractAsyncContextManager[AsyncConnection]:
        raise NotImplementedError

    async def list_records(
        self,
        tenant: str,
        where: RecordFilter,
        order: RecordOrder,
        *,
        after: tuple[Any, str] | None = None,
        limit: int = 20,
    ) -> list[ListedRecord]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        key = _SORT_KEYS[order.column]
        query = select(*(projections.c[name] for name in _COLUMNS), key.label("sort_key")).where(
            projections.c.tenant == tenant, *_conditions(where)
        )
        if after is not None:
            value, name = after
            if order.column == "name":
                query = query.where(projections.c.name < name if order.descending else projections.c.name > name)
            elif order.descending:
                query = query.where(or_(key < value, and_(key == value, projections.c.name < name)))
            else:
                query = query.where(or_(key > value, and_(key == value, projections.c.name > name)))
        if order.descending:
            query = query.order_by(desc(key), desc(projections.c.name))
        else:
            query = query.order_by(key, projections.c.name)
        async with self._transaction("list_records") as conn:
            rows = (await conn.execute(query.limit(limit))).all()
        return [
            ListedRecord(Projection(**{name: row._mapping[name] for name in _COLUMNS}), _sort_value(row.sort_key))
            for row in rows
        ]

    async def report_rows(
        self, tenant: str, *, types: Sequence[str], with_record: bool = False
    ) -> list[ReportRow]:
        if not types:
            return []
        columns = (*_REPORT_COLUMNS, projections.c.body["record"].label("record")) if with_record else _REPORT_COLUMNS
        query = (
            select(*columns)
            .where(projections.c.tenant == tenant, projections.c.type.in_(list(types)))
            .order_by(projections.c.name)
        )
        async with self._transaction("report_rows") as conn:
            rows = (await conn.execute(query)).all()
        return [ReportRow(**row._mapping) for row in rows]

    async def update_times(self, tenant: str, name: str, *, limit: int = 100) -> list[datetime]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        query = (
            select(updates.c.created_at)
            .where(updates.c.tenant == tenant, updates.c.name == name)
            .order_by(desc(updates.c.id))
            .limit(limit)
        )
        async with self._transaction("update_times") as conn:
            return list((await conn.execute(query)).scalars())


def _conditions(where: RecordFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for column in ("type", "status", "assignee", "team"):
        value = getattr(where, column)
        if value is not None:
            conditions.append(projections.c[column] == value)
    for instant, what in ((where.due_before, "due_before"), (where.updated_since, "updated_since"), (where.now, "now")):
        if instant is not None and instant.tzinfo is None:
            raise ValueError(f"{what} must be timezone-aware")
    if where.due_before is not None:
        conditions.append(projections.c.due_at < where.due_before)
    if where.updated_since is not None:
        conditions.append(projections.c.updated_at >= where.updated_since)
    if where.q:
        conditions.append(projections.c.search.contains(where.q.lower(), autoescape=True))
    if where.overdue is not None:
        if where.now is None:
            raise ValueError("an overdue filter needs now")
        overdue = _overdue(where.now)
        conditions.append(overdue if where.overdue else not_(overdue))
    return conditions


def _overdue(now: datetime) -> ColumnElement[bool]:
    """Open per the record type's lifecycle and due before ``now``; never null, so its negation is exact."""
    cases = [
        and_(
            projections.c.type == name,
            func.coalesce(projections.c.status, "").in_(sorted(LIFECYCLES[name].open)),
            projections.c.due_at.is_not(None),
            func.coalesce(projections.c.due_at, literal(_NO_DUE, UtcDateTime())) < now,
        )
        for name, kind in RECORD_TYPES.items()
        if kind.due_field is not None and name in LIFECYCLES
    ]
    return or_(*cases) if cases else false()


def _sort_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value
