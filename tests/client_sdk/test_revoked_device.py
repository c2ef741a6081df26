"""A revoked device (SDK) keeps every edit it makes meanwhile, reports why, and syncs them once restored."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from pycrdt import Map

from client_sdk import LocalReplica, Records, SyncClient, SyncConfig
from tests.support.client import HubClient
from tests.support.hub import HubProcess
from tests.support.http import call

JOB = "work_order:WO-31"
FAST = SyncConfig(backoff_base=0.05, backoff_cap=0.3, connect_timeout=2)


async def test_edits_made_while_revoked_stay_on_the_device_are_reported_and_go_through_once_restored(
    hub_on_store: HubProcess, tmp_path: Path,
) -> None:
    hub = hub_on_store
    admin = hub.token(sub="ops-1", device="console", roles=("admin",))
    replica = await LocalReplica.open(tmp_path / "tablet.db", device="tablet-9")
    records = Records(replica, user="tech-1", roles=["technician"])
    async with SyncClient(replica, hub.ws_url, hub.token(sub="tech-1", device="tablet-9"), config=FAST) as client:
        await records.create("work_order", "WO-31", {"status": "OPEN", "title": "Pump"})
        await client.wait_synced(10)
        status, _ = await call(f"{hub.http_url}/admin/devices/tablet-9/revoke", "POST", token=admin)
        assert status == 200
        await records.set(JOB, title="typed while revoked")
        deadline = time.monotonic() + 5
        while client.last_error is None or client.last_error.code != "device_revoked":
            assert time.monotonic() < deadline, f"not reported: {client.last_error}"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # the client keeps trying, and the hub keeps refusing
        assert client.pending == 1, "the edit stays on the device"
        status, _ = await call(f"{hub.http_url}/admin/devices/tablet-9/restore", "POST", token=admin)
        assert status == 200
        await client.wait_synced(10)
        assert client.pending == 0
    await replica.close()
    async with HubClient.connect(hub.ws_url) as office:
        doc = await office.open(JOB, hub.token(sub="sup", roles=("supervisor",), device="desk"))
        assert doc.get("record", type=Map)["title"] == "typed while revoked"
