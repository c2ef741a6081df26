"""SIGTERM: what was received is committed and acknowledged, then sockets close with 1001."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
from pycrdt import Map

from sync.protocol.codes import CloseCode
from sync.protocol import Sync, SyncStep
from tests.support.client import HubClient
from tests.support.hub import HubProcess
from tests.support.stored import record_updates, stored_doc

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


def test_health_and_readiness(hub: HubProcess) -> None:
    with urllib.request.urlopen(f"{hub.http_url}/healthz") as response:
        assert response.status == 200
    with urllib.request.urlopen(f"{hub.http_url}/readyz") as response:
        assert response.status == 200 and b"ready" in response.read()
