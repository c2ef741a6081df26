"""Contract of the devices interface (``sync.store.devices``) on every backend, and its migration."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from sync.store import ConflictRecord, DeviceSeen, SqlStore, upgrade
from sync.store.devices import MAX_LISTED
from sync.store.migrate import alembic_config

TENANT = "acme"
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def seen(device: str, at: datetime = T0, **changes: object) -> DeviceSeen:
    fields: dict[str, object] = {"tenant": TENANT, "device": device, "user": "tech-7", "seen_at": at}
    fields.update(changes)
    return DeviceSeen(**fields)  # type: ignore[arg-type]


async def test_a_device_keeps_its_first_sighting_version_and_last_sync(store: SqlStore) -> None:
    await store.save_devices([seen("tablet-1", client_version="sdk/0.3", synced_at=T0,
                                   documents=("work_order:WO-2", "work_order:WO-1"), scopes=("my_work_orders(user=tech-7)",))])
    later = T0 + timedelta(hours=2)
    # a later save without a version or a sync keeps both; what it follows now replaces what it followed
    await store.save_devices([seen("tablet-1", later, documents=("work_order:WO-3",))])
    device = await store.get_device(TENANT, "tablet-1")
    assert device is not None
    assert (device.first_seen_at, device.last_seen_at, device.last_synced_at) == (T0, later, T0)
    assert device.client_version == "sdk/0.3" and device.user == "tech-7"
    assert device.documents == ["work_order:WO-3"] and device.scopes == [] and not device.revoked
    assert await store.get_device(TENANT, "nope") is None
    assert await store.get_device("other", "tablet-1") is None


async def test_one_batch_saves_many_devices_and_the_latest_row_of_one_wins(store: SqlStore) -> None:
    await store.save_devices([seen("a"), seen("b", user="sup"), seen("a", T0 + timedelta(minutes=1), client_version="v2")])
    await store.save_devices([])
    a = await store.get_device(TENANT, "a")
    assert a is not None and a.client_version == "v2" and a.last_seen_at == T0 + timedelta(minutes=1)
    assert [d.device for d in await store.list_devices(TENANT)] == ["a", "b"]


async def test_stored_document_names_are_bounded(store: SqlStore) -> None:
    names = tuple(f"work_order:WO-{i:05}" for i in range(MAX_LISTED + 20))
    await store.save_devices([seen("big", documents=names)])
    device = await store.get_device(TENANT, "big")
    assert device is not None and device.documents == list(names[:MAX_LISTED])


async def test_devices_are_listed_by_filter_in_keyset_pages(store: SqlStore) -> None:
    await store.save_devices([seen(f"d{i}", T0 + timedelta(hours=i), user="ana" if i % 2 else "bo") for i in range(5)])
    await store.save_devices([DeviceSeen(tenant="other", device="d0", user="x", seen_at=T0)])
    await store.revoke_device(TENANT, "d3", at=T0, by="admin-1")

    async def ids(**filters: object) -> list[str]:
        return [d.device for d in await store.list_devices(TENANT, **filters)]  # type: ignore[arg-type]

    assert await ids() == ["d0", "d1", "d2", "d3", "d4"]
    assert await ids(user="ana") == ["d1", "d3"]
    assert await ids(revoked=True) == ["d3"] and await ids(revoked=False) == ["d0", "d1", "d2", "d4"]
    assert await ids(seen_since=T0 + timedelta(hours=3)) == ["d3", "d4"]
    assert await ids(limit=2) == ["d0", "d1"] and await ids(after="d1", limit=2) == ["d2", "d3"]
    assert await ids(after="d4") == []
    with pytest.raises(ValueError):
        await store.list_devices(TENANT, limit=0)
    with pytest.raises(ValueError):
        await store.list_devices(TENANT, seen_since=datetime(2026, 1, 1))


async def test_revocation_is_kept_until_restored_and_listed_for_a_starting_hub(store: SqlStore) -> None:
    await store.save_devices([seen("lost"), seen("fine"), DeviceSeen(tenant="other", device="lost", user="x", seen_at=T0)])
    assert await store.revoked_devices() == []
    revoked = await store.revoke_device(TENANT, "lost", at=T0, by="admin-1")
    assert revoked is not None and revoked.revoked_at == T0 and revoked.revoked_by == "admin-1"
    again = await store.revoke_device(TENANT, "lost", at=T0 + timedelta(hours=1), by="admin-2")
    assert again is not None and (again.revoked_at, again.revoked_by) == (T0, "admin-1")  # the first revocation stays
    # the device still shows up (its sockets are refused, not its history) and a sighting leaves it revoked
    await store.save_devices([seen("lost", T0 + timedelta(hours=2))])
    assert (await store.get_device(TENANT, "lost")).revoked  # type: ignore[union-attr]
    assert await store.revoked_devices() == [(TENANT, "lost")]
    assert await store.revoke_device(TENANT, "never-seen", at=T0, by="admin-1") is None

    restored = await store.restore_device(TENANT, "lost")
    assert restored is not None and not restored.revoked and restored.revoked_by is None
    assert await store.revoked_devices() == []
    assert await store.restore_device(TENANT, "never-seen") is None


async def test_conflicts_are_counted_by_kind_code_and_status(store: SqlStore) -> None:
    def row(key: str, **changes: object) -> ConflictRecord:
        fields: dict[str, object] = {"tenant": TENANT, "name": "work_order:WO-1", "field": "status", "key": key,
                                     "kind": "conflict", "values": [], "winner": None, "created_at": T0}
        fields.update(changes)
        return ConflictRecord(**fields)  # type: ignore[arg-type]

    await store.save_conflicts([row("a"), row("b"), row("c", kind="violation", code="invalid_transition"),
                                row("a", tenant="other")])
    await store.resolve_conflict(TENANT, (await store.list_conflicts(TENANT))[0].id or 0, {"value": 1}, "sup")
    assert await store.count_conflicts(TENANT) == {
        ("conflict", None, "open"): 1, ("conflict", None, "resolved"): 1, ("violation", "invalid_transition", "open"): 1,
    }
    assert await store.count_conflicts("nobody") == {}


async def test_the_devices_migration_keeps_existing_rows_and_goes_back(sqlite_url: str) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(sqlite_url), "0003")
    engine = create_async_engine(sqlite_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("INSERT INTO devices (tenant, device, user, last_seen_at) "
                                       "VALUES ('acme', 'old', 'u', '2026-01-01 00:00:00')"))
        await upgrade(sqlite_url)
        store = SqlStore(sqlite_url)
        await store.start()
        try:
            old = await store.get_device("acme", "old")
        finally:
            await store.close()
        assert old is not None and old.first_seen_at == old.last_seen_at and old.client_version == ""
        assert old.documents == [] and not old.revoked
        await asyncio.to_thread(command.downgrade, alembic_config(sqlite_url), "0003")
        async with engine.connect() as conn:
            columns = await conn.run_sync(lambda c: {col["name"] for col in sa.inspect(c).get_columns("devices")})
        assert columns == {"tenant", "device", "user", "last_seen_at"}
    finally:
        await engine.dispose()
