"""Offline edits from several devices converge on every replica and in the store."""

from __future__ import annotations

from pycrdt import Array, Doc, Map

from tests.support.client import HubClient
from tests.support.hub import HubProcess
from tests.support.stored import state_vector, stored_doc

NAME = "work_order:WO-1042"


def offline_edits(status: str, note: str, **fields: object) -> Doc:
    doc = Doc()
    record = doc.get("record", type=Map)
    record["phase"] = status
    for key, value in fields.items():
        record[key] = value
    doc.get("notes", type=Array).append(note)
    return doc


def snapshot(doc: Doc) -> tuple[dict, list, dict[int, int]]:
    return doc.get("record", type=Map).to_py(), sorted(doc.get("notes", type=Array).to_py()), state_vector(doc)


async def test_two_offline_devices_converge_and_a_late_client_gets_everything(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    a = offline_edits("IN_PROGRESS", "replaced the seal", title="Pump 3 leaking")
    b = offline_edits("SCHEDULED", "customer not home at 9", priority="HIGH")
    async with HubClient.connect(hub.ws_url) as ca, HubClient.connect(hub.ws_url) as cb:
        await ca.open(NAME, hub.token(sub="tech-a", device="dev-a"), doc=a)
        await cb.open(NAME, hub.token(sub="tech-b", device="dev-b"), doc=b)
        both_notes = lambda d: len(d.get("notes", type=Array)) == 2  # noqa: E731
        await ca.wait_for(NAME, both_notes)
        await cb.wait_for(NAME, both_notes)
        await ca.wait_for(NAME, lambda d: state_vector(d) == state_vector(b))

    assert snapshot(a) == snapshot(b)
    record, notes, _ = snapshot(a)
    assert notes == ["customer not home at 9", "replaced the seal"]
    assert record["title"] == "Pump 3 leaking" and record["priority"] == "HIGH"
    assert record["phase"] in {"IN_PROGRESS", "SCHEDULED"}

    stored, _ = await stored_doc(hub.database_url, "acme", NAME)
    assert snapshot(stored) == snapshot(a)

    async with HubClient.connect(hub.ws_url) as cc:
        late = await cc.open(NAME, hub.token(sub="supervisor", device="web", roles=("supervisor",)))
    assert snapshot(late) == snapshot(a)


async def test_live_edits_are_broadcast_to_other_subscribers_but_not_echoed(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    async with HubClient.connect(hub.ws_url) as ca, HubClient.connect(hub.ws_url) as cb:
        await ca.open(NAME, hub.token(device="dev-a"))
        await cb.open(NAME, hub.token(device="dev-b"))
        frames_before = len(ca.frames)
        assert await ca.set_fields(NAME, {"phase": "IN_PROGRESS"})
        await cb.wait_for(NAME, lambda d: d.get("record", type=Map).get("phase") == "IN_PROGRESS")
        # the writer got exactly its acknowledgement back, not its own update
        assert [type(f).__name__ for f in ca.frames[frames_before:]] == ["SyncStatus"]
