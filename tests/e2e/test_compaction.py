"""Compaction keeps the log short while updates stream in, and loses nothing."""

from __future__ import annotations

import asyncio

import pytest
from pycrdt import Map

from sync.protocol import Sync, SyncStep
from tests.support.client import HubClient
from tests.support.hub import HubProcess
from tests.support.stored import record_updates, state_vector, stored_doc

NAME = "work_order:WO-10K"
UPDATES = 10_000
THRESHOLD = 500


@pytest.mark.hub_env(FIELDSYNC_MESSAGES_PER_SECOND=1000000, FIELDSYNC_MESSAGE_BURST=1000000,
                     FIELDSYNC_COMPACTION_THRESHOLD=THRESHOLD)
async def test_ten_thousand_updates_leave_a_compacted_log_and_a_complete_initial_sync(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    source, updates = record_updates(UPDATES)
    async with HubClient.connect(hub.ws_url) as client:
        await client.open(NAME, hub.token())
        base = len(client.statuses[NAME])
        for update in updates:
            await client.send_frame(Sync(NAME, SyncStep.UPDATE, update))
        await client.wait_acks(NAME, base + UPDATES, timeout=120)
        assert all(client.statuses[NAME])

    for _ in range(100):  # compaction runs in the background
        stored, log_length = await stored_doc(hub.database_url, "acme", NAME)
        if log_length < THRESHOLD:
            break
        await asyncio.sleep(0.1)
    assert log_length < THRESHOLD, f"log still holds {log_length} entries"
    assert stored.get("record", type=Map).to_py() == source.get("record", type=Map).to_py()

    async with HubClient.connect(hub.ws_url) as fresh:
        doc = await fresh.open(NAME, hub.token(device="fresh"))
    assert state_vector(doc) == state_vector(source)
    assert doc.get("record", type=Map).to_py() == source.get("record", type=Map).to_py()
