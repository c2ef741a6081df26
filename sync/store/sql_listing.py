"""Listing queries on SQLAlchemy: the part of ``SqlStore`` that pages projections and reads report rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, desc, false, func, literal, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from conflict import LIFECYCLES, RECORD_TYPES
from sync.store.listing import ListedRecord, RecordFilter, RecordOrder, ReportGroup, ReportRow
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
}  # due_at: by parts, see ``_due_sections``
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
        query = select(*(projections.c[name] for name in _COLUMNS)).where(
            projections.c.tenant == tenant, *_conditions(where)
        )
        if order.column == "due_at":
            queries = _due_sections(query, order.descending, after)
        else:
            queries = [_keyset(query, _SORT_KEYS[order.column], order.descending, after)]
        rows: list[Any] = []
        async with self._transaction("list_records") as conn:
            for section in queries:
                rows += (await conn.execute(section.limit(limit - len(rows)))).all()
                if len(rows) >= limit:
                    break
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

    async def report_groups(
        self,
        tenant: str,
        *,
        types: Sequence[str],
        now: datetime,
        cutoffs: Mapping[tuple[str, str], datetime],
    ) -> list[ReportGroup]:
        if not types:
            return []
        if now.tzinfo is None or any(at.tzinfo is None for at in cutoffs.values()):
            raise ValueError("now and the cutoffs must be timezone-aware")
        c = projections.c
        is_open = _open()
        cutoff = case(
            *((and_(c.type == kind, c.status == status), literal(at, UtcDateTime()))
              for (kind, status), at in cutoffs.items()),
            else_=literal(None, UtcDateTime()),
        ) if cutoffs else literal(None, UtcDateTime())
        query = (
            select(
                c.type, c.status, c.assignee,
                func.count().label("count"),
                func.sum(case((_overdue(now), 1), else_=0)).label("overdue"),
                func.min(case((and_(is_open, c.due_at >= now), c.due_at))).label("next_due"),
                func.count(c.amount).label("with_amount"),
                func.coalesce(func.sum(c.amount), 0).label("amount"),
                func.min(c.status_since).label("oldest_since"),
                func.sum(case((c.status_since < cutoff, 1), else_=0)).label("over_limit"),
                func.min(case((c.status_since >= cutoff, c.status_since))).label("next_since"),
            )
            .where(c.tenant == tenant, c.type.in_(list(types)))
            .group_by(c.type, c.status, c.assignee)
        )
        async with self._transaction("report_groups") as conn:
            rows = (await conn.execute(query)).all()
        return [
            ReportGroup(
                type=row.type, status=row.status, assignee=row.assignee, count=int(row.count),
                overdue=int(row.overdue or 0), next_due=_instant(row.next_due), with_amount=int(row.with_amount),
                amount=Decimal(str(row.amount or 0)), oldest_since=_instant(row.oldest_since),
                over_limit=int(row.over_limit or 0), next_since=_instant(row.next_since),
            )
            for row in rows
        ]

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


def _keyset(query: Select[Any], key: ColumnElement[Any], descending: bool, after: tuple[Any, str] | None) -> Select[Any]:
    """``query`` in (``key``, name) order, continued after position ``after``."""
    name = projections.c.name
    query = query.add_columns(key.label("sort_key"))
    if after is not None:
        value, last = after
        if key is name:
            query = query.where(name < last if descending else name > last)
        elif descending:
            query = query.where(or_(key < value, and_(key == value, name < last)))
        else:
            query = query.where(or_(key > value, and_(key == value, name > last)))
    return query.order_by(desc(key), desc(name)) if descending else query.order_by(key, name)


def _due_sections(query: Select[Any], descending: bool, after: tuple[Any, str] | None) -> list[Select[Any]]:
    """The ``due_at`` order, ``(coalesce(due_at, _NO_DUE), name)``, as up to three queries read in turn.

    Sorting on the ``coalesce`` itself makes the database sort every matching row for each page, since no
    index holds that expression. Split at ``_NO_DUE``, each part is ordered by what an index on ``due_at``
    holds: due before ``_NO_DUE`` (by ``due_at``, then name), none or exactly ``_NO_DUE`` (one key: by name),
    due after it (by ``due_at``, then name). Positions, keys and the order are those of the ``coalesce``, so
    cursors made before this split continue where they stopped; parts wholly before the position are not read.
    """
    due, name = projections.c.due_at, projections.c.name
    value, last = after if after is not None else (None, "")
    if value is not None and not isinstance(value, datetime):
        raise ValueError("a due_at position must be a datetime")
    undated = query.where(or_(due.is_(None), due == _NO_DUE)).add_columns(
        literal(_NO_DUE, UtcDateTime()).label("sort_key")
    )
    if value == _NO_DUE:
        undated = undated.where(name < last if descending else name > last)
    undated = undated.order_by(desc(name) if descending else name)
    before = _keyset(query.where(due < _NO_DUE), due, descending, after)
    beyond = _keyset(query.where(due > _NO_DUE), due, descending, after)
    if not descending:
        return [section for section, reached in ((before, value is None or value < _NO_DUE),
                                                 (undated, value is None or value <= _NO_DUE),
                                                 (beyond, True)) if reached]
    return [section for section, reached in ((beyond, value is None or value > _NO_DUE),
                                             (undated, value is None or value >= _NO_DUE),
                                             (before, True)) if reached]


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


def _open() -> ColumnElement[bool]:
    """In a status the record type's lifecycle calls open (awaiting work)."""
    return or_(*(
        and_(projections.c.type == name, func.coalesce(projections.c.status, "").in_(sorted(lifecycle.open)))
        for name, lifecycle in LIFECYCLES.items()
    ))


def _instant(value: Any) -> datetime | None:
    """A datetime aggregate as the driver gives it (SQLite: text, no zone) made timezone-aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sort_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value
