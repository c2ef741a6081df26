"""Re-sending an update any number of times changes nothing."""

from __future__ import annotations

from pycrdt import Array, Doc, Map

from sync.protocol import Sync, SyncStep
from tests.support.client import HubClient
from tests.support.hub import HubProcess

NAME = "warranty_claim:WC-77"


async def fresh_view(hub: HubProcess) -> tuple[bytes, dict, list]:
    """What a new client receives in its initial sync: the raw step-2 update and the resulting content."""
    async with HubClient.connect(hub.ws_url) as client:
        doc = await client.open(NAME, hub.token(device="fresh"))
        step2 = next(f.data for f in client.frames if isinstance(f, Sync) and f.step is SyncStep.STEP2)
        return step2, doc.get("record", type=Map).to_py(), doc.get("notes", type=Array).to_py()


async def test_resent_updates_change_neither_document_nor_initial_sync(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    source = Doc()
    updates: list[bytes] = []
    source.observe(lambda event: updates.append(event.update))
    source.get("record", type=Map)["phase"] = "SUBMITTED"
    source.get("notes", type=Array).append("serial plate photographed")
    async with HubClient.connect(hub.ws_url) as client:
        await client.open(NAME, hub.token())
        for update in updates:
            assert await client.send_update(NAME, update)
    first = await fresh_view(hub)
    assert first[1:] == ({"phase": "SUBMITTED"}, ["serial plate photographed"])

    async with HubClient.connect(hub.ws_url) as client:
        await client.open(NAME, hub.token(device="retrying"))
        for _ in range(5):
            for update in updates:
                assert await client.send_update(NAME, update)
            await client.send_frame(Sync(NAME, SyncStep.STEP2, source.get_update()))
    assert await fresh_view(hub) == first

    hub.kill()
    hub.restart()  # reloaded from snapshot + a log holding the duplicates
    assert await fresh_view(hub) == first
