"""A device reopening many documents at once, against the bytes the hub holds before Auth answers
(``FIELDSYNC_MAX_HELD_BYTES``), on a real hub process.

On every connection the SDK sends each followed document's Auth and step 1 in one go; the step 1s wait in the
hub while the Auths are checked. An unauthenticated socket may hold little; a device's large reconnect must
still go through without a single ``queue_full``.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
import websockets

from client_sdk import ErrorReported, SyncError
from sync.protocol import Stateless, Sync, SyncStep, decode_frame, encode_frame
from tests.client_sdk.devices import Device, Devices, seed
from tests.support.hub import HubProcess

DOCUMENTS = 1500
#: The default ``FIELDSYNC_MAX_HELD_BYTES``: what a socket may hold before any of its documents is authenticated.
UNAUTHENTICATED_BUDGET = 128 * 1024


def held_cost(name: str, state_vector: bytes) -> int:
    """What the hub counts for a held step 1 (``sync.connection.held.frame_cost``)."""
    return len(state_vector) + len(name) + 64


def queue_full(device: Device) -> list[SyncError]:
    return [event.error for event in device.events if isinstance(event, ErrorReported) and event.error.code == "queue_full"]


async def test_a_device_reopening_1500_documents_gets_no_queue_full(hub: HubProcess, tmp_path: Path) -> None:
    names = [f"work_order:WO-2026-{number:05d}" for number in range(DOCUMENTS)]
    await seed(hub, {name: {"status": "OPEN", "technician": "tech-1", "title": f"Job {number}"}
                     for number, name in enumerate(names)})
    devices = Devices(tmp_path)
    try:
        tablet = await devices.make(hub, "tablet-1", user="tech-1")
        await tablet.replica.follow(*names)
        await tablet.sync(180)  # the first sync: 1,500 empty step 1s at once, every document loaded from the store
        assert not queue_full(tablet)
        await tablet.go_offline()
        vectors = await tablet.replica.state_vectors(names)
        step1s = sum(held_cost(name, vectors[name]) for name in names)
        print(f"\n{DOCUMENTS} documents reopened: their step 1s cost {step1s} bytes held "
              f"({step1s / DOCUMENTS:.0f} each; the unauthenticated budget is {UNAUTHENTICATED_BUDGET})")
        assert step1s > UNAUTHENTICATED_BUDGET, "more than a socket nobody has authenticated may hold"

        hub.terminate()
        hub.start()  # nothing in memory: every Auth waits for its document's load again
        tablet.events.clear()
        await tablet.sync(180)  # the reconnect: Auth and step 1 of every document at once
        refused = queue_full(tablet)
        assert not refused, f"{len(refused)} step 1s refused queue_full, e.g. {refused[0]}"
        assert tablet.client.status.synced_documents == DOCUMENTS
    finally:
        await devices.close()


async def test_a_socket_nobody_authenticated_still_holds_at_most_the_small_budget(hub: HubProcess) -> None:
    """The same 1,500 step 1s without an Auth answered: only what fits in ``FIELDSYNC_MAX_HELD_BYTES`` is held."""
    names = [f"work_order:WO-2026-{number:05d}" for number in range(DOCUMENTS)]
    vector = bytes([1, 0x8F, 0xC4, 0xA7, 0x9B, 0x04, 0x03])  # one client, as a device's replica has after a sync
    cost = held_cost(names[0], vector)
    fits = UNAUTHENTICATED_BUDGET // cost
    async with websockets.connect(hub.ws_url, max_size=None) as socket:
        for name in names:  # never an Auth: each step 1 waits for one
            await socket.send(encode_frame(Sync(name, SyncStep.STEP1, vector)))
        refused: set[str] = set()
        with contextlib.suppress(TimeoutError):
            while True:  # until the hub has had nothing to say for a second
                frame = decode_frame(await asyncio.wait_for(socket.recv(), 1))
                if isinstance(frame, Stateless) and '"queue_full"' in frame.payload:
                    refused.add(frame.document)
        assert refused == set(names[fits:]), f"{fits} step 1s of {cost} bytes fit in {UNAUTHENTICATED_BUDGET}, no more"
        assert socket.close_code is None
