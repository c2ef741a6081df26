"""Hub.acquire: first loads asked for together are read together, and still once per document."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from pycrdt import Map

from server.auth import JwtVerifier
from sync.bus import InProcessBus, UpdateCommitted
from sync.bus.messages import encode_envelope
from sync.documents import LOAD_BATCH
from sync.hub import Hub
from sync.protocol import Authenticated, AuthToken, PermissionDenied, Sync, SyncStep
from sync.store import LogEntry, SqlStore, StoredDocument
from tests.support.inproc import OPEN_ACCESS, SECRET, Connection, migrated_sqlite, token
from tests.support.stored import record_updates


class CountingStore(SqlStore):
    """The real SQLite store, counting the calls that load documents."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.calls: list[int] = []  # documents asked for, per call
        self.delay = 0.0

    async def load(self, tenant: str, name: str) -> StoredDocument:
        self.calls.append(1)
        await asyncio.sleep(self.delay)
        return await super().load(tenant, name)

    async def load_many(self, tenant: str, names: Sequence[str]) -> dict[str, StoredDocument]:
        self.calls.append(len(names))
        await asyncio.sleep(self.delay)
        return await super().load_many(tenant, names)


@asynccontextmanager
async def counting_hub(tmp_path: Path, bus: InProcessBus | None = None) -> AsyncIterator[tuple[Hub, CountingStore]]:
    store = CountingStore(await migrated_sqlite(tmp_path / "hub.db"))
    await store.start()
    hub = Hub(store, JwtVerifier(secret=SECRET), bus=bus, access=OPEN_ACCESS)
    try:
        async with hub.running():
            yield hub, store
    finally:
        await store.close()


async def test_a_device_opening_300_documents_at_once_costs_a_few_store_queries(tmp_path: Path) -> None:
    async with counting_hub(tmp_path) as (hub, store):
        names = [f"work_order:WO-{i}" for i in range(300)]
        _, updates = record_updates(1)
        await store.append([LogEntry("acme", name, updates[0]) for name in names[::7]])
        conn = Connection(hub)
        for name in names:
            conn.socket.push(AuthToken(name, token()))
            conn.socket.push(Sync(name, SyncStep.STEP1, b"\x00"))
        await conn.socket.wait(lambda: sum(isinstance(f, Sync) and f.step is SyncStep.STEP1
                                           for f in conn.socket.received) == 300, timeout=20)

        assert len(store.calls) <= 3 and sum(store.calls) == 300, store.calls
        assert max(store.calls) <= LOAD_BATCH
        assert sum(isinstance(f, Authenticated) for f in conn.socket.received) == 300
        assert hub.rooms[("acme", names[7])].doc.get("record", type=Map).to_py() == {"k0": 0}
        assert hub.rooms[("acme", names[1])].doc.get("record", type=Map).to_py() == {}
        await conn.finish()


async def test_concurrent_first_loads_of_one_document_share_one_read(tmp_path: Path) -> None:
    async with counting_hub(tmp_path) as (hub, store):
        store.delay = 0.05
        first = await asyncio.gather(*(hub.acquire("acme", "work_order:WO-1") for _ in range(20)),
                                     *(hub.acquire("acme", f"work_order:WO-{i}") for i in range(2, 12)))
        assert store.calls == [11], "one read for the 11 documents"
        assert all(room is first[0] for room in first[:20])
        late = asyncio.gather(hub.acquire("acme", "work_order:WO-50"), hub.acquire("globex", "work_order:WO-50"))
        again = hub.acquire("acme", "work_order:WO-50")
        a, b = await late
        assert await again is a and a is not b
        assert store.calls == [11, 1, 1], "a tenant's documents are read apart from another's"


async def test_a_failed_read_refuses_every_document_of_it_and_the_next_one_retries(tmp_path: Path) -> None:
    async with counting_hub(tmp_path) as (hub, store):
        conn = Connection(hub)
        await store.close()
        try:
            for i in range(5):
                conn.socket.push(AuthToken(f"work_order:WO-{i}", token()))
            await conn.socket.wait(lambda: sum(isinstance(f, PermissionDenied) for f in conn.socket.received) == 5)
        finally:
            await store.start()
        assert all(f.reason.startswith("store_unavailable: ")
                   for f in conn.socket.received if isinstance(f, PermissionDenied))
        assert hub.registry._loads == {} and hub.bus_link.waiting == 0
        await conn.open("work_order:WO-1")
        await conn.finish()


async def test_updates_from_other_nodes_during_a_batched_read_are_applied_after_it(tmp_path: Path) -> None:
    bus = InProcessBus()
    async with counting_hub(tmp_path, bus) as (hub, store):
        store.delay = 0.1
        loading = asyncio.gather(*(hub.acquire("acme", f"work_order:WO-{i}") for i in range(3)))
        await asyncio.sleep(0.02)
        assert store.calls == [3]
        _, updates = record_updates(1, key="remote")
        await bus.publish(encode_envelope("another-node", 1, [UpdateCommitted("acme", "work_order:WO-1", updates[0])]))
        rooms = await loading
        assert rooms[1].doc.get("record", type=Map).to_py() == {"remote0": 0}
        assert rooms[0].doc.get("record", type=Map).to_py() == {}
