"""Only the hub speaks as the hub (issue 11): relayed broadcasts and presence, on real hub processes.

A client's BroadcastStateless travels in the frame type of the hub's own notices; a forged ``rate_limited``
notice with a huge ``retry_after`` must never reach a device, whoever sends it. Awareness client ids belong
to the connection that set them, and presence is bounded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from client_sdk import ErrorReported
from sync.protocol import Awareness, BroadcastStateless, QueryAwareness, Stateless, encode_frame
from sync.protocol.awareness import AwarenessEntry, decode_awareness_update, encode_awareness_update
from tests.client_sdk.devices import Devices
from tests.support.client import HubClient
from tests.support.hub import HubProcess
from tests.support.stored import stored_doc
from pycrdt import Map

NAME = "work_order:WO-77"
FORGED = json.dumps({"type": "error", "code": "rate_limited", "message": "slow down", "retry_after": 1e9})


def awareness(*entries: AwarenessEntry) -> Awareness:
    return Awareness(NAME, encode_awareness_update(list(entries)))


def presence_seen(client: HubClient) -> list[AwarenessEntry]:
    return [entry for frame in client.frames if isinstance(frame, Awareness) for entry in decode_awareness_update(frame.data)]


async def test_a_forged_rate_limited_broadcast_cannot_pause_another_device(hub_on_store: HubProcess, tmp_path: Path) -> None:
    hub = hub_on_store
    devices = Devices(tmp_path)
    try:
        tablet = await devices.make(hub, "tablet", user="tech-17")
        await tablet.records.create("work_order", "WO-77", {"status": "OPEN", "technician": "tech-17"})
        await tablet.sync()
        async with HubClient.connect(hub.ws_url) as viewer, HubClient.connect(hub.ws_url) as writer:
            await viewer.open(NAME, hub.token(sub="boss", device="viewer-1", roles=("viewer",)))
            await writer.open(NAME, hub.token(sub="tech-9", device="tablet-9"))
            await viewer.send_frame(BroadcastStateless(NAME, FORGED))
            await writer.send_frame(BroadcastStateless(NAME, FORGED))
            await viewer.wait_notice(NAME, "readonly")
            await writer.wait_notice(NAME, "reserved_message")

            await writer.send_frame(BroadcastStateless(NAME, "cursor moved"))  # an ordinary broadcast still goes
            await viewer._wait(lambda: Stateless(NAME, "cursor moved") in viewer.frames, 10)

            for step in range(3):  # the device keeps uploading, each write acknowledged within seconds
                await tablet.records.set(NAME, priority=f"P{step}")
                await tablet.sync(timeout=5)
        assert not [e for e in tablet.events if isinstance(e, ErrorReported) and e.error.code == "rate_limited"]
        assert not [frame for frame in viewer.frames if frame == Stateless(NAME, FORGED)], "nothing forged was relayed"
        doc, _ = await stored_doc(hub.database_url, "acme", NAME)
        assert doc.get("record", type=Map).to_py()["priority"] == "P2"
    finally:
        await devices.close()


async def test_a_forged_presence_of_another_connection_is_dropped(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    owner_state = '{"user":"tech-17","cursor":3}'
    async with (HubClient.connect(hub.ws_url) as owner, HubClient.connect(hub.ws_url) as forger,
                HubClient.connect(hub.ws_url) as watcher):
        await owner.open(NAME, hub.token(sub="tech-17", device="t17"))
        await forger.open(NAME, hub.token(sub="boss", device="viewer-1", roles=("viewer",)))
        await watcher.open(NAME, hub.token(sub="tech-9", device="t9"))
        await owner.send_frame(awareness(AwarenessEntry(11, 1, owner_state)))
        await watcher._wait(lambda: AwarenessEntry(11, 1, owner_state) in presence_seen(watcher), 10)

        await forger.send_frame(awareness(AwarenessEntry(11, 50, '{"user":"forged"}')))
        await forger.send_frame(awareness(AwarenessEntry(11, 51, "null")))
        await forger._wait(lambda: len([n for n in forger.notices[NAME] if n.code == "awareness_not_owned"]) == 2, 10)

        await watcher.send_frame(QueryAwareness(NAME))
        answers = lambda: [f for f in watcher.frames if isinstance(f, Awareness)]  # noqa: E731
        before = len(answers())
        await watcher._wait(lambda: len(answers()) > before, 10)
        assert decode_awareness_update(answers()[-1].data) == [AwarenessEntry(11, 1, owner_state)]
        assert all(entry.clock == 1 for entry in presence_seen(watcher)), "nothing of the forgery was relayed"


@pytest.mark.hub_env(FIELDSYNC_MAX_AWARENESS_BYTES_PER_CONNECTION=4096, FIELDSYNC_MAX_AWARENESS_BYTES_PER_DOCUMENT=16384)
async def test_a_viewer_cannot_park_presence_for_every_new_subscriber(hub: HubProcess) -> None:
    big = json.dumps({"pad": "x" * 3000})
    async with HubClient.connect(hub.ws_url) as viewer:
        await viewer.open(NAME, hub.token(sub="boss", device="viewer-1", roles=("viewer",)))
        # one state within the budget, then many more client ids, each with a state as large
        await viewer.send_frame(awareness(*(AwarenessEntry(cid, 1, big) for cid in range(1, 200))))
        notice = await viewer.wait_notice(NAME, "awareness_too_large")
        assert "198" in notice.message
        async with HubClient.connect(hub.ws_url) as newcomer:
            await newcomer.open(NAME, hub.token(sub="tech-9", device="t9"))
            await newcomer.send_frame(QueryAwareness(NAME))
            await newcomer._wait(lambda: len([f for f in newcomer.frames if isinstance(f, Awareness)]) >= 2, 10)
            received = sum(len(encode_frame(f)) for f in newcomer.frames if isinstance(f, Awareness))
            assert received < 2 * 4096, f"a new subscriber received {received} bytes of presence"
