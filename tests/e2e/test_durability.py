"""Acked means durable: a SIGKILLed hub loses nothing it acknowledged."""

from __future__ import annotations

import asyncio

import pytest
from pycrdt import Map

from sync.protocol import Sync, SyncStep
from tests.support.client import HubClient
from tests.support.hub import HubProcess
from tests.support.stored import record_updates, stored_doc

WRITERS = 3
UPDATES = 20000


async def stream(hub: HubProcess, name: str, updates: list[bytes], acking: asyncio.Event) -> list[bool]:
    async with HubClient.connect(hub.ws_url) as client:
        await client.open(name, hub.token(device=name))
        acked_before = len(client.statuses[name])
        watcher = asyncio.create_task(client.wait_acks(name, acked_before + 200, timeout=60))
        watcher.add_done_callback(lambda _: acking.set())
        try:
            for update in updates:
                await client.send_frame(Sync(name, SyncStep.UPDATE, update))
        except Exception:  # the hub died mid-stream
            pass
        await client.wait_closed(30)
        return client.statuses[name][acked_before:]


@pytest.mark.hub_env(FIELDSYNC_MESSAGES_PER_SECOND=1000000, FIELDSYNC_MESSAGE_BURST=1000000)
async def test_every_acknowledged_update_survives_sigkill(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    names = [f"work_order:WO-K{i}" for i in range(WRITERS)]
    streams = [record_updates(UPDATES) for _ in names]
    acking = [asyncio.Event() for _ in names]
    tasks = [asyncio.create_task(stream(hub, n, s[1], e)) for n, s, e in zip(names, streams, acking)]
    for event in acking:  # every writer has had acknowledgements: the stream is under way
        await event.wait()
    hub.kill()
    results = await asyncio.gather(*tasks)

    acked_total = 0
    for name, statuses in zip(names, results):
        assert all(statuses), "statuses are in order and only true before the kill"
        acked = len(statuses)
        acked_total += acked
        doc, _ = await stored_doc(hub.database_url, "acme", name)
        record = doc.get("record", type=Map).to_py()
        missing = [i for i in range(acked) if record.get(f"k{i}") != i]
        assert not missing, f"{name}: {len(missing)} acknowledged updates lost, first {missing[:5]}"
    assert acked_total > 0, "the kill came before any acknowledgement: the test proved nothing"
    assert acked_total < WRITERS * UPDATES, "the kill came after the stream ended: not mid-stream"

    hub.restart()
    async with HubClient.connect(hub.ws_url) as client:
        for name, statuses in zip(names, results):
            doc = await client.open(name, hub.token(device="checker"))
            record = doc.get("record", type=Map).to_py()
            assert all(record.get(f"k{i}") == i for i in range(len(statuses)))
