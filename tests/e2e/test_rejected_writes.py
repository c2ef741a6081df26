"""Updates of a token refused access, on a real hub process: kept for review before the device is told, once
each, and at most ``FIELDSYNC_REJECTED_WRITES_PER_HOUR`` per device, so a refused token cannot fill the queue."""

from __future__ import annotations

import base64

import pytest
from pycrdt import Doc, Map

from sync.access import DEFAULT_ACCESS_FILE
from tests.e2e.test_access import edit, seed
from tests.support.client import Denied, HubClient
from tests.support.hub import HubProcess
from tests.support.stored import stored_conflicts

NAME = "work_order:WO-50"
pytestmark = pytest.mark.hub_env(FIELDSYNC_ACCESS_FILE=str(DEFAULT_ACCESS_FILE), FIELDSYNC_REJECTED_WRITES_PER_HOUR="5")


async def rejected_rows(hub: HubProcess) -> list:
    """What the store holds now: read once, never waited for."""
    return [row for row in await stored_conflicts(hub.database_url, NAME, timeout=0) if row.kind == "rejected"]


async def refused_device(hub: HubProcess, client: HubClient, device: str) -> None:
    """``client`` authenticates ``NAME`` as a technician it is not assigned to: refused, its updates kept."""
    with pytest.raises(Denied, match="forbidden"):
        await client.authenticate(NAME, hub.token(sub="tech-1", device=device))


async def test_a_refused_token_gets_at_most_its_hourly_share_of_the_review_queue(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    await seed(hub, {NAME: {"status": "OPEN", "technician": "tech-2", "title": "Pump 3"}})
    async with HubClient.connect(hub.ws_url) as attacker:
        await refused_device(hub, attacker, "tablet-1")
        updates = [edit({"title": f"forged {i}", "padding": "x" * 2000}) for i in range(8)]
        results = [await attacker.send_update(NAME, update) for update in updates]
        assert await attacker.send_update(NAME, updates[0]) is False, "sent again: answered, kept once"
        assert results == [False] * 8
        messages = [n.message for n in attacker.notices[NAME] if n.code == "write_rejected"]
        assert len(messages) == 9
        assert all("kept for review" in m and "not kept" not in m for m in messages[:5])
        assert all("not kept for review" in m and "the device keeps it" in m for m in messages[5:])
    rows = await rejected_rows(hub)
    assert len(rows) == 5, "the device's hourly share, and no more"
    assert sorted(r.values[0]["update"] for r in rows) == sorted(
        base64.b64encode(u).decode() for u in updates[:5])

    async with HubClient.connect(hub.ws_url) as other, HubClient.connect(hub.ws_url) as office:
        await refused_device(hub, other, "tablet-2")  # another device has a share of its own
        assert await other.send_update(NAME, edit({"title": "from the second tablet"})) is False
        doc = await office.open(NAME, hub.token(sub="sup-1", roles=("supervisor",), device="desk"))
        assert doc.get("record", type=Map)["title"] == "Pump 3", "nothing refused was applied"
    assert len(await rejected_rows(hub)) == 6


async def test_a_rejected_update_is_stored_before_the_device_is_told(hub_on_store: HubProcess) -> None:
    """The hub is SIGKILLed the moment the notice arrives: the review row is already in the store."""
    hub = hub_on_store
    await seed(hub, {NAME: {"status": "OPEN", "technician": "tech-2", "title": "Pump 3"}})
    async with HubClient.connect(hub.ws_url) as device:
        await refused_device(hub, device, "tablet-1")
        assert await device.send_update(NAME, edit({"title": "typed offline"})) is False
        await device.wait_notice(NAME, "write_rejected")
        hub.kill()
    (row,) = await rejected_rows(hub)
    kept = Doc()
    kept.apply_update(base64.b64decode(row.values[0]["update"]))
    assert kept.get("record", type=Map)["title"] == "typed offline"
