"""Hub: shared loads, idle unload, compaction, fan-out between nodes over the bus."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pycrdt import Map

from server.auth import JwtVerifier
from sync.bus import InProcessBus
from sync.config import HubConfig
from sync.hub import Hub
from sync.protocol import Sync, SyncStep
from sync.store import SqlStore, StoredDocument
from tests.support.inproc import OPEN_ACCESS, SECRET, Connection, migrated_sqlite, running_hub, token
from tests.support.stored import record_updates

NAME = "work_order:WO-1"


class CountingStore(SqlStore):
    """The real SQLite store, counting loads."""

    loads = 0

    async def load(self, tenant: str, name: str) -> StoredDocument:
        self.loads += 1
        await asyncio.sleep(0.05)  # keep the load in flight while the others ask
        return await super().load(tenant, name)


async def test_concurrent_first_loads_share_one_load(tmp_path: Path) -> None:
    store = CountingStore(await migrated_sqlite(tmp_path / "hub.db"))
    await store.start()
    hub = Hub(store, JwtVerifier(secret=SECRET), access=OPEN_ACCESS)
    try:
        async with hub.running():
            rooms = await asyncio.gather(*(hub.acquire("acme", NAME) for _ in range(20)))
            assert store.loads == 1
            assert all(room is rooms[0] for room in rooms)
            await hub.acquire("globex", NAME)
            assert store.loads == 2, "another tenant's document is another room"
    finally:
        await store.close()


async def test_idle_rooms_are_unloaded_and_reloaded_from_the_store(tmp_path: Path) -> None:
    async with running_hub(tmp_path, idle_unload_seconds=0.2) as hub:
        conn = Connection(hub)
        await conn.open(NAME)
        conn.socket.push(Sync(NAME, SyncStep.UPDATE, record_updates(1)[1][0]))
        await conn.socket.wait(lambda: conn.socket.statuses(NAME) == [True])
        room = hub.rooms[("acme", NAME)]
        assert hub.unload_idle(now=room.idle_since + 10) == 0, "a room with a subscriber stays"
        await conn.finish()
        await hub.flush_projections()
        assert hub.unload_idle(now=room.idle_since + 0.1) == 0, "not idle long enough"
        assert hub.unload_idle(now=room.idle_since + 0.3) == 1
        assert ("acme", NAME) not in hub.rooms
        reloaded = await hub.acquire("acme", NAME)
        assert reloaded is not room
        assert reloaded.doc.get("record", type=Map).to_py() == {"k0": 0}


async def test_compaction_runs_in_the_background_past_the_threshold(tmp_path: Path) -> None:
    async with running_hub(tmp_path, compaction_threshold=50, message_burst=1000) as hub:
        conn = Connection(hub)
        await conn.open(NAME)
        for update in record_updates(120)[1]:
            conn.socket.push(Sync(NAME, SyncStep.UPDATE, update))
        await conn.socket.wait(lambda: len(conn.socket.statuses(NAME)) == 120)
        for _ in range(100):
            if await hub.store.log_length("acme", NAME) < 50:
                break
            await asyncio.sleep(0.05)
        assert await hub.store.log_length("acme", NAME) < 50
        stored = await hub.store.load("acme", NAME)
        assert stored.snapshot is not None
        await conn.finish()


async def test_updates_reach_subscribers_on_another_node_through_the_bus(tmp_path: Path) -> None:
    url = await migrated_sqlite(tmp_path / "hub.db")
    bus = InProcessBus()
    stores = [SqlStore(url), SqlStore(url)]
    for store in stores:
        await store.start()
    verifier = JwtVerifier(secret=SECRET)
    node_a, node_b = (Hub(store, verifier, bus=bus, config=HubConfig(), access=OPEN_ACCESS) for store in stores)
    try:
        async with node_a.running(), node_b.running():
            on_a, on_b = Connection(node_a), Connection(node_b)
            await on_a.open(NAME)
            await on_b.open(NAME, token(device="d2"))
            on_a.socket.push(Sync(NAME, SyncStep.UPDATE, record_updates(1, key="from-a")[1][0]))
            relayed = await on_b.socket.wait_frame(Sync, document=NAME, step=SyncStep.UPDATE)
            assert node_b.rooms[("acme", NAME)].doc.get("record", type=Map).to_py() == {"from-a0": 0}
            assert relayed.data
            await on_a.finish(), await on_b.finish()
    finally:
        for store in stores:
            await store.close()
