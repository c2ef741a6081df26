"""SIGTERM: what was received is committed and acknowledged, then sockets close with 1001, and the devices
table says when each device was last seen."""

from __future__ import annotations

import asyncio
import urllib.request
from datetime import UTC, datetime

import pytest
from pycrdt import Map

from sync.protocol.codes import CloseCode
from sync.protocol import Sync, SyncStep
from tests.support.client import HubClient
from tests.support.hub import HubProcess
from tests.support.stored import record_updates, stored_device, stored_doc

NAME = "insurance_claim:IC-5"


@pytest.mark.hub_env(FIELDSYNC_MESSAGES_PER_SECOND=1000000, FIELDSYNC_MESSAGE_BURST=1000000)
async def test_sigterm_flushes_acknowledges_and_closes_with_going_away(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    _, updates = record_updates(2000)
    async with HubClient.connect(hub.ws_url) as client:
        await client.open(NAME, hub.token())
        base = len(client.statuses[NAME])
        for update in updates:
            await client.send_frame(Sync(NAME, SyncStep.UPDATE, update))
        await client.wait_acks(NAME, base + 1)
        exit_code = await asyncio.to_thread(hub.terminate)
        assert await client.wait_closed() == CloseCode.GOING_AWAY
        acked = sum(client.statuses[NAME][base:])
    assert exit_code == 0
    assert acked >= 1
    doc, _ = await stored_doc(hub.database_url, "acme", NAME)
    record = doc.get("record", type=Map).to_py()
    assert all(record.get(f"k{i}") == i for i in range(acked))


async def test_sigterm_writes_when_each_device_was_last_seen(hub_on_store: HubProcess) -> None:
    """The devices table is written in batches about once a second; what was noted since the last batch (a
    write, the sockets the shutdown closed) is written before the hub exits."""
    hub = hub_on_store
    async with HubClient.connect(hub.ws_url) as idle, HubClient.connect(hub.ws_url) as busy:
        await idle.open(NAME, hub.token(sub="tech-1", device="tablet-idle"))
        await busy.open(NAME, hub.token(sub="tech-2", device="tablet-busy"))
        await asyncio.sleep(1.5)  # a periodic batch has recorded both; the idle one does nothing more
        wrote_at = datetime.now(UTC)
        assert await busy.set_fields(NAME, {"summary": "just before the stop"})
        stopping_at = datetime.now(UTC)
        exit_code = await asyncio.to_thread(hub.terminate)
        assert await idle.wait_closed() == CloseCode.GOING_AWAY
    assert exit_code == 0
    seen_busy = await stored_device(hub.database_url, "acme", "tablet-busy")
    seen_idle = await stored_device(hub.database_url, "acme", "tablet-idle")
    assert seen_busy is not None and seen_idle is not None
    assert seen_busy.last_seen_at >= wrote_at
    assert seen_busy.last_synced_at is not None and seen_busy.last_synced_at >= wrote_at
    assert seen_idle.last_seen_at >= stopping_at, "connected until the hub closed its socket"
    assert seen_idle.documents == [NAME]


def test_health_and_readiness(hub: HubProcess) -> None:
    with urllib.request.urlopen(f"{hub.http_url}/healthz") as response:
        assert response.status == 200
    with urllib.request.urlopen(f"{hub.http_url}/readyz") as response:
        assert response.status == 200 and b"ready" in response.read()
