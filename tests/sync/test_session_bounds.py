"""Session bounds of issue 11 on a hub in this event loop: held bytes, names, broadcasts, presence ownership."""

from __future__ import annotations

import json
from pathlib import Path

from sync.protocol import Awareness, AuthToken, BroadcastStateless, PermissionDenied, Stateless, Sync, SyncStep
from sync.protocol.awareness import AwarenessEntry, decode_awareness_update, encode_awareness_update
from tests.support.inproc import Connection, running_hub, token

NAME = "work_order:WO-1"
FORGED = json.dumps({"type": "error", "code": "rate_limited", "message": "x", "retry_after": 1e9})


async def test_frames_held_before_auth_are_bounded_in_bytes_and_leave_no_link_when_refused(tmp_path: Path) -> None:
    async with running_hub(tmp_path, max_held_bytes=10_000) as hub:
        conn = Connection(hub)
        for number in range(20):  # 20 documents never authenticated, 1 KB each: only 9 fit
            conn.socket.push(Sync(f"work_order:WO-{number}", SyncStep.UPDATE, b"x" * 1000))
        await conn.socket.wait(lambda: len(conn.socket.statuses("work_order:WO-19")) == 1)
        refused = [n for n in range(20) if conn.socket.statuses(f"work_order:WO-{n}") == [False]]
        assert refused == list(range(9, 20))
        assert len(conn.session.links) == 9, "a refused frame leaves no link behind"
        assert conn.session._held.used <= 10_000
        await conn.finish()


async def test_once_a_document_is_authenticated_the_larger_budget_applies(tmp_path: Path) -> None:
    async with running_hub(tmp_path, max_held_bytes=10_000, max_held_bytes_authenticated=30_000) as hub:
        conn = Connection(hub)
        await conn.open(NAME)  # a verified device now: its reconnect may hold more than a stranger's socket
        for number in range(40):  # 40 documents whose Auth has not come, 1 KB each: 27 fit in 30,000
            conn.socket.push(Sync(f"work_order:WO-H{number}", SyncStep.UPDATE, b"x" * 1000))
        await conn.socket.wait(lambda: len(conn.socket.statuses("work_order:WO-H39")) == 1)
        refused = [n for n in range(40) if conn.socket.statuses(f"work_order:WO-H{n}") == [False]]
        assert refused == list(range(27, 40))
        assert 10_000 < conn.session._held.used <= 30_000
        await conn.finish()


async def test_a_name_longer_than_any_record_is_refused_and_kept_nowhere(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        conn = Connection(hub)
        long = "work_order:" + "W" * 500
        conn.socket.push(AuthToken(long, token()))
        conn.socket.push(Sync(long, SyncStep.UPDATE, b"\x00\x00"))
        denied = await conn.socket.wait_frame(PermissionDenied, document=long)
        assert denied.reason.startswith("invalid_document_name")
        await conn.socket.wait_notice(long, "invalid_document_name")
        assert conn.session.links == {}
        await conn.finish()


async def test_a_readonly_connection_may_not_broadcast(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        viewer, other = Connection(hub), Connection(hub)
        await viewer.open(NAME, token(sub="v", device="v1", roles=("viewer",)))
        await other.open(NAME, token(device="d2"))
        viewer.socket.push(BroadcastStateless(NAME, "hello"))
        await viewer.socket.wait_notice(NAME, "readonly")
        assert Stateless(NAME, "hello") not in other.socket.received
        await viewer.finish(), await other.finish()


async def test_a_broadcast_shaped_like_a_hub_notice_is_refused_and_others_are_relayed_unchanged(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        writer, other = Connection(hub), Connection(hub)
        await writer.open(NAME)
        await other.open(NAME, token(device="d2"))
        writer.socket.push(BroadcastStateless(NAME, FORGED))
        await writer.socket.wait_notice(NAME, "reserved_message")
        writer.socket.push(BroadcastStateless(NAME, '{"type":"cursor","at":3}'))
        await other.socket.wait(lambda: Stateless(NAME, '{"type":"cursor","at":3}') in other.socket.received)
        assert Stateless(NAME, FORGED) not in other.socket.received
        await writer.finish(), await other.finish()


async def test_presence_of_another_connection_cannot_be_overwritten_and_leaves_with_its_owner(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        owner, forger = Connection(hub), Connection(hub)
        await owner.open(NAME)
        await forger.open(NAME, token(device="d2"))
        owner.socket.push(Awareness(NAME, encode_awareness_update([AwarenessEntry(5, 1, '{"u":"a"}')])))
        await forger.socket.wait_frame(Awareness, document=NAME)
        forger.socket.push(Awareness(NAME, encode_awareness_update([AwarenessEntry(5, 9, "null")])))
        await forger.socket.wait_notice(NAME, "awareness_not_owned")
        room = hub.rooms[("acme", NAME)]
        assert room.awareness.snapshot() == [AwarenessEntry(5, 1, '{"u":"a"}')]
        seen = [e for f in owner.socket.received if isinstance(f, Awareness) for e in decode_awareness_update(f.data)]
        assert seen == [], "the owner was sent nothing of the forgery"
        await owner.finish()
        await forger.socket.wait(lambda: len(room.awareness) == 0)
        assert owner.session.awareness_budget.used == 0
        await forger.finish()


async def test_a_document_at_its_size_limit_refuses_content_but_not_a_replica_that_brings_none(tmp_path: Path) -> None:
    from pycrdt import Doc, Map

    async with running_hub(tmp_path, max_document_bytes=3000) as hub:
        conn = Connection(hub)
        await conn.open(NAME)
        replica = Doc()
        updates: list[bytes] = []
        replica.observe(lambda event: updates.append(event.update))
        record = replica.get("record", type=Map)
        record["a"] = "x" * 1000
        record["b"] = "y" * 1000
        del record["a"]
        record["c"] = "z" * 1500
        for update in updates:
            conn.socket.push(Sync(NAME, SyncStep.UPDATE, update))
        await conn.socket.wait(lambda: len(conn.socket.statuses(NAME)) == 4)
        assert conn.socket.statuses(NAME) == [True, True, True, False], "the deletion passes, the last one would not fit"
        await conn.socket.wait_notice(NAME, "document_too_large")
        room = hub.rooms[("acme", NAME)]
        caught_up = room.doc.get_update(Doc().get_state())
        in_sync = Doc()
        in_sync.apply_update(caught_up)
        conn.socket.push(Sync(NAME, SyncStep.STEP2, in_sync.get_update(room.doc.get_state())))  # its delete set only
        await conn.socket.wait(lambda: len(conn.socket.statuses(NAME)) == 5)
        assert conn.socket.statuses(NAME)[-1] is True
        await conn.finish()
