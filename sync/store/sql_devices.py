"""The ``devices`` table on SQLAlchemy: the part of ``SqlStore`` that keeps devices and their revocation."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Row, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from sync.store.devices import MAX_LISTED
from sync.store.records import DeviceRecord, DeviceSeen
from sync.store.tables import devices

__all__ = ["DeviceTable"]

_COLUMNS = ("tenant", "device", "user", "first_seen_at", "last_seen_at", "client_version", "last_synced_at",
            "documents", "scopes", "revoked_at", "revoked_by")


class DeviceTable:
    """Mixed into ``SqlStore``, which provides ``_transaction`` and ``_insert``."""

    def _transaction(self, action: str, *, exclusive: bool = False) -> AbstractAsyncContextManager[AsyncConnection]:
        raise NotImplementedError

    def _insert(self, table: Any) -> Any:
        raise NotImplementedError

    async def save_devices(self, rows: Sequence[DeviceSeen]) -> None:
        if not rows:
            return
        latest: dict[tuple[str, str], DeviceSeen] = {}
        for row in rows:
            if row.seen_at.tzinfo is None or (row.synced_at is not None and row.synced_at.tzinfo is None):
                raise ValueError("DeviceSeen times must be timezone-aware")
            latest[(row.tenant, row.device)] = row
        values = [
            {"tenant": row.tenant, "device": row.device, "user": row.user, "first_seen_at": row.seen_at,
             "last_seen_at": row.seen_at, "client_version": row.client_version[:120], "last_synced_at": row.synced_at,
             "documents": sorted(row.documents)[:MAX_LISTED], "scopes": sorted(row.scopes)}
            for row in latest.values()
        ]
        stmt = self._insert(devices)
        new = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=[devices.c.tenant, devices.c.device],
            set_={
                "user": new.user,
                "last_seen_at": new.last_seen_at,
                "client_version": case((new.client_version == "", devices.c.client_version), else_=new.client_version),
                "last_synced_at": func.coalesce(new.last_synced_at, devices.c.last_synced_at),
                "documents": new.documents,
                "scopes": new.scopes,
            },
        )
        async with self._transaction("save_devices", exclusive=True) as conn:
            await conn.execute(stmt, values)

    async def get_device(self, tenant: str, device: str) -> DeviceRecord | None:
        async with self._transaction("get_device") as conn:
            return await _fetch(conn, tenant, device)

    async def list_devices(
        self,
        tenant: str,
        *,
        user: str | None = None,
        revoked: bool | None = None,
        seen_since: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[DeviceRecord]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        query = select(devices).where(devices.c.tenant == tenant)
        if user is not None:
            query = query.where(devices.c.user == user)
        if revoked is not None:
            query = query.where(devices.c.revoked_at.is_not(None) if revoked else devices.c.revoked_at.is_(None))
        if seen_since is not None:
            if seen_since.tzinfo is None:
                raise ValueError("seen_since must be timezone-aware")
            query = query.where(devices.c.last_seen_at >= seen_since)
        if after is not None:
            query = query.where(devices.c.device > after)
        async with self._transaction("list_devices") as conn:
            result = await conn.execute(query.order_by(devices.c.device).limit(limit))
            return [_record(row) for row in result]

    async def revoke_device(self, tenant: str, device: str, *, at: datetime, by: str) -> DeviceRecord | None:
        if at.tzinfo is None:
            raise ValueError("at must be timezone-aware")
        stmt = (
            update(devices)
            .where(devices.c.tenant == tenant, devices.c.device == device)
            .values(revoked_at=func.coalesce(devices.c.revoked_at, at),
                    revoked_by=case((devices.c.revoked_at.is_(None), by), else_=devices.c.revoked_by))
        )
        return await self._change("revoke_device", stmt, tenant, device)

    async def restore_device(self, tenant: str, device: str) -> DeviceRecord | None:
        stmt = (
            update(devices)
            .where(devices.c.tenant == tenant, devices.c.device == device)
            .values(revoked_at=None, revoked_by=None)
        )
        return await self._change("restore_device", stmt, tenant, device)

    async def revoked_devices(self) -> list[tuple[str, str]]:
        query = select(devices.c.tenant, devices.c.device).where(devices.c.revoked_at.is_not(None))
        async with self._transaction("revoked_devices") as conn:
            return [(row.tenant, row.device) for row in await conn.execute(query)]

    async def _change(self, action: str, stmt: Any, tenant: str, device: str) -> DeviceRecord | None:
        async with self._transaction(action, exclusive=True) as conn:
            changed = (await conn.execute(stmt)).rowcount
            return await _fetch(conn, tenant, device) if changed else None


async def _fetch(conn: AsyncConnection, tenant: str, device: str) -> DeviceRecord | None:
    query = select(devices).where(devices.c.tenant == tenant, devices.c.device == device)
    row = (await conn.execute(query)).first()
    return _record(row) if row is not None else None


def _record(row: Row[Any]) -> DeviceRecord:
    values = {column: row._mapping[column] for column in _COLUMNS}
    values["first_seen_at"] = values["first_seen_at"] or values["last_seen_at"]
    values["documents"] = list(values["documents"] or [])
    values["scopes"] = list(values["scopes"] or [])
    values["client_version"] = values["client_version"] or ""
    return DeviceRecord(**values)
