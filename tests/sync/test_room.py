from __future__ import annotations

import asyncio

import pytest
from pycrdt import Doc, Map, merge_updates

from sync.errors import ProtocolError
from sync.protocol import Sync, SyncStep, decode_frame
from sync.documents.room import Room
from sync.store import StoredDocument
from tests.support.stored import record_updates


class Inbox:
    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def send(self, frame: bytes) -> None:
        self.frames.append(frame)


async def test_apply_relays_to_everyone_but_the_origin_and_refuses_garbage() -> None:
    room = Room("acme", "work_order:WO-1")
    origin, other = Inbox(), Inbox()
    room.join(origin), room.join(other)
    _, updates = record_updates(1)
    room.apply_update(updates[0], origin)
    await asyncio.sleep(0)  # relayed at the end of the tick
    assert origin.frames == []
    assert decode_frame(other.frames[0]) == Sync("work_order:WO-1", SyncStep.UPDATE, updates[0])
    with pytest.raises(ProtocolError) as refused:
        room.apply_update(b"\x07\x07", origin)
    await asyncio.sleep(0)
    assert refused.value.code == "invalid_update"
    assert len(other.frames) == 1


async def test_updates_of_one_tick_are_relayed_merged_per_origin_and_in_order_with_other_frames() -> None:
    room = Room("acme", "work_order:WO-1")
    first, second, watcher = Inbox(), Inbox(), Inbox()
    for subscriber in (first, second, watcher):
        room.join(subscriber)
    _, updates = record_updates(5)
    for update in updates[:3]:
        room.apply_update(update, first)
    room.apply_update(updates[3], second)
    room.broadcast(b"other frame")  # what was relayed before goes out first
    room.apply_update(updates[4], second)
    assert watcher.frames[-1] == b"other frame"
    await asyncio.sleep(0)
    merged, theirs, other, last = (decode_frame(frame) if frame != b"other frame" else frame for frame in watcher.frames)
    assert other == b"other frame"
    assert merged == Sync("work_order:WO-1", SyncStep.UPDATE, merged.data)
    replica = Doc()
    replica.apply_update(merged.data)
    assert replica.get_state() == _state_of(updates[:3])
    assert (theirs.data, last.data) == (updates[3], updates[4])
    assert [decode_frame(frame).data for frame in first.frames if frame != b"other frame"] == [updates[3], updates[4]]
    assert len(second.frames) == 2 and decode_frame(second.frames[0]).data == merged.data


def _state_of(updates: list[bytes]) -> bytes:
    doc = Doc()
    for update in updates:
        doc.apply_update(update)
    return doc.get_state()


def test_step1_answer_and_contains() -> None:
    room = Room("acme", "work_order:WO-1")
    source, updates = record_updates(2)
    for update in updates:
        room.apply_update(update, None)
    step2, step1 = (decode_frame(f) for f in room.answer_step1(Doc().get_state()))
    client = Doc()
    client.apply_update(step2.data)
    assert client.get("record", type=Map).to_py() == {"k0": 0, "k1": 1}
    assert step1.step is SyncStep.STEP1 and step1.data == room.doc.get_state()
    assert room.contains(updates[0]) and room.contains(b"\x00\x00")
    assert not room.contains(record_updates(1, key="new")[1][0])
    deletion = Doc()
    deletion.apply_update(room.doc.get_update())
    deletes: list[bytes] = []
    deletion.observe(lambda event: deletes.append(event.update))
    del deletion.get("record", type=Map)["k0"]
    assert not room.contains(deletes[0]), "a deletion changes no state vector but is new"
    _, later = record_updates(3, key="gap")
    assert not room.contains(later[2]), "an update with missing dependencies is not contained"
    with pytest.raises(ProtocolError):
        room.answer_step1(b"\xff\xff")


def test_an_update_with_a_gap_is_refused_until_its_predecessors_arrive() -> None:
    # the out-of-order delivery that makes this pycrdt version drop data: u1, u2 before u0
    room = Room("acme", "work_order:WO-1")
    source = Doc()
    updates: list[bytes] = []
    source.observe(lambda event: updates.append(event.update))
    record = source.get("record", type=Map)
    record["k0"], record["k1"], record["k0"] = 0, 1, 2
    for gapped in (updates[1], updates[2]):
        with pytest.raises(ProtocolError) as refused:
            room.apply_update(gapped, None)
        assert refused.value.code == "missing_dependencies"
    for update in updates:
        room.apply_update(update, None)
    assert room.doc.get("record", type=Map).to_py() == {"k0": 2, "k1": 1}
    # a several-client update (a step 2) with a gap is caught too
    other = Doc()
    other.get("record", type=Map)["x"] = 1
    fresh = Room("acme", "work_order:WO-2")
    combined = Doc()
    combined.apply_update(other.get_update())
    combined.apply_update(source.get_update())
    assert fresh._integrable(combined.get_update())
    with pytest.raises(ProtocolError) as refused:
        fresh.apply_update(merge_updates(other.get_update(), updates[2]), None)
    assert refused.value.code == "missing_dependencies"
    assert fresh.doc.get("record", type=Map).to_py() == {}, "nothing of a refused update is merged"


async def test_an_update_the_room_already_has_is_not_relayed_again() -> None:
    room = Room("acme", "work_order:WO-1")
    writer, other = Inbox(), Inbox()
    room.join(writer), room.join(other)
    _, updates = record_updates(2)
    room.apply_update(updates[0], writer)
    room.apply_update(updates[0], writer)  # a retry: the ack was lost
    await asyncio.sleep(0)
    assert len(other.frames) == 1


async def test_absorb_relays_another_nodes_update_to_every_subscriber_once() -> None:
    room = Room("acme", "work_order:WO-1")
    one, two = Inbox(), Inbox()
    room.join(one), room.join(two)
    _, updates = record_updates(2)
    assert room.absorb(updates[0]) is True
    assert room.absorb(updates[0]) is False
    await asyncio.sleep(0)
    assert len(one.frames) == len(two.frames) == 1
    with pytest.raises(ProtocolError) as refused:
        room.absorb(record_updates(3)[1][2])  # continues changes of a client this room never saw
    assert refused.value.code == "missing_dependencies"


async def test_catch_up_relays_only_what_the_store_has_and_the_room_lacks() -> None:
    room = Room("acme", "work_order:WO-1")
    subscriber = Inbox()
    room.join(subscriber)
    doc, updates = record_updates(3)
    room.absorb(updates[0])
    await asyncio.sleep(0)
    stored = StoredDocument(snapshot=merge_updates(*updates[:2]), updates=[updates[2]])
    assert room.catch_up(stored) is True
    assert room.catch_up(stored) is False
    await asyncio.sleep(0)
    replay = Doc()
    for frame in subscriber.frames:
        replay.apply_update(decode_frame(frame).data)
    assert replay.get("record", type=Map).to_py() == doc.get("record", type=Map).to_py()
    assert len(subscriber.frames) == 2, "the first update, then what was missing, as one frame"
