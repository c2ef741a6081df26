"""One encoding of a whole document, shared by the step 1s that lack most of it, renewed when it changes."""

from __future__ import annotations

import pytest
from pycrdt import Doc, Map, Text

from sync.documents.room import Room
from sync.documents.shared_state import SHARED_FROM_BYTES
from sync.errors import ProtocolError
from sync.protocol import Sync, SyncStep, decode_frame


def large_room() -> Room:
    room = Room("acme", "work_order:WO-1")
    room.doc.get("description", type=Text).insert(0, "x" * (SHARED_FROM_BYTES * 4))
    return room


def test_requests_for_the_whole_document_share_one_frame_until_it_changes() -> None:
    room = large_room()
    first, _ = room.answer_step1(b"\x00")
    bogus_client, _ = room.answer_step1(b"\x01\xe7\x07\x05")  # a client the document never saw: lacks it all
    assert first is bogus_client
    room.doc.get("record", type=Map)["status"] = "OPEN"  # a change: the next request gets the new version
    after, _ = room.answer_step1(b"\x00")
    assert after is not first
    replica = Doc()
    frame = decode_frame(after)
    assert isinstance(frame, Sync) and frame.step is SyncStep.STEP2
    replica.apply_update(frame.data)
    assert replica.get("record", type=Map).to_py() == {"status": "OPEN"}


def test_a_client_that_lacks_little_gets_its_own_small_diff() -> None:
    room = large_room()
    replica = Doc()
    replica.apply_update(room.doc.get_update())
    room.doc.get("record", type=Map)["status"] = "OPEN"
    step2, _ = room.answer_step1(replica.get_state())
    assert len(step2) < 200


def test_a_state_vector_that_does_not_decode_is_refused() -> None:
    with pytest.raises(ProtocolError) as caught:
        large_room().answer_step1(b"\xff")
    assert caught.value.code == "invalid_state_vector"
