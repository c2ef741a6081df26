"""Session: limits, refusals, awareness, heartbeat, each exercised on a real hub in this event loop."""

from __future__ import annotations

from pathlib import Path

from sync.protocol.codes import CloseCode
from sync.protocol import (
    Authenticated, Awareness, AuthToken, BroadcastStateless, Close, PermissionDenied, Ping, Pong, QueryAwareness,
    Stateless, Sync, SyncStep,
)
from sync.protocol.awareness import AwarenessEntry, decode_awareness_update, encode_awareness_update
from sync.protocol.control import Hello, encode_control
from tests.support.inproc import Connection, running_hub, token
from tests.support.stored import record_updates

NAME = "work_order:WO-1"


async def test_rate_limit_refuses_updates_over_the_device_budget_and_spares_other_devices(tmp_path: Path) -> None:
    async with running_hub(tmp_path, messages_per_second=0.5, message_burst=4) as hub:
        greedy, other = Connection(hub), Connection(hub)
        await greedy.open(NAME)  # Auth + step 1: two of the four
        _, updates = record_updates(3)
        for update in updates:
            greedy.socket.push(Sync(NAME, SyncStep.UPDATE, update))
        notice = await greedy.socket.wait_notice(NAME, "rate_limited")
        assert notice.retry_after and notice.retry_after > 0
        await greedy.socket.wait(lambda: len(greedy.socket.statuses(NAME)) == 3)
        assert greedy.socket.statuses(NAME) == [True, True, False]

        await other.open(NAME, token(device="d2"))
        other.socket.push(Sync(NAME, SyncStep.UPDATE, record_updates(1, key="o")[1][0]))
        await other.socket.wait(lambda: other.socket.statuses(NAME) == [True])
        await greedy.finish(), await other.finish()


async def test_control_messages_have_their_own_tighter_limit(tmp_path: Path) -> None:
    async with running_hub(tmp_path, control_messages_per_minute=2) as hub:
        conn = Connection(hub)
        await conn.open(NAME)
        for _ in range(3):
            conn.socket.push(BroadcastStateless(NAME, "ping"))
        await conn.socket.wait_notice(NAME, "rate_limited")
        assert sum(1 for f in conn.socket.received if f == Stateless(NAME, "ping")) == 2
        await conn.finish()


async def test_documents_per_connection_limit(tmp_path: Path) -> None:
    async with running_hub(tmp_path, max_documents_per_connection=2) as hub:
        conn = Connection(hub)
        await conn.open("work_order:WO-1")
        await conn.open("work_order:WO-2")
        conn.socket.push(AuthToken("work_order:WO-3", token()))
        denied = await conn.socket.wait_frame(PermissionDenied, document="work_order:WO-3")
        assert denied.reason.startswith("too_many_documents: ")
        # the two others keep working
        conn.socket.push(Sync("work_order:WO-2", SyncStep.UPDATE, record_updates(1)[1][0]))
        await conn.socket.wait(lambda: conn.socket.statuses("work_order:WO-2") == [True])
        await conn.finish()


async def test_frames_held_before_auth_are_bounded(tmp_path: Path) -> None:
    async with running_hub(tmp_path, pending_frames_per_document=2) as hub:
        conn = Connection(hub)
        _, updates = record_updates(3)
        for update in updates:
            conn.socket.push(Sync(NAME, SyncStep.UPDATE, update))
        await conn.socket.wait_notice(NAME, "queue_full")
        conn.socket.push(AuthToken(NAME, token()))
        await conn.socket.wait(lambda: len(conn.socket.statuses(NAME)) == 3)
        assert conn.socket.statuses(NAME) == [False, True, True]  # refusal first: it was answered at once
        await conn.finish()


async def test_a_socket_that_never_authenticates_is_closed(tmp_path: Path) -> None:
    async with running_hub(tmp_path, auth_timeout_seconds=0.2) as hub:
        conn = Connection(hub)
        code, reason = await conn.socket.wait_closed()
        assert code == CloseCode.CONNECTION_TIMEOUT and "authenticated" in reason
        await conn.finish()


async def test_a_slow_consumer_is_closed_and_the_room_is_not_held_up(tmp_path: Path) -> None:
    async with running_hub(tmp_path, send_queue_frames=10) as hub:
        slow, writer = Connection(hub), Connection(hub)
        await slow.open(NAME)
        await writer.open(NAME, token(device="d2"))
        slow.socket.blocked.clear()  # the slow device stops reading
        for count, update in enumerate(record_updates(30)[1], start=1):  # a paced writer: one ack at a time
            writer.socket.push(Sync(NAME, SyncStep.UPDATE, update))
            await writer.socket.wait(lambda: len(writer.socket.statuses(NAME)) == count)
        assert all(writer.socket.statuses(NAME))
        slow.socket.blocked.set()
        code, _ = await slow.socket.wait_closed()
        assert code == CloseCode.SLOW_CONSUMER
        await slow.finish(), await writer.finish()


async def test_ping_pong_and_idle_heartbeat(tmp_path: Path) -> None:
    async with running_hub(tmp_path, ping_interval_seconds=0.1) as hub:
        conn = Connection(hub)
        conn.socket.push(Ping())
        await conn.socket.wait_frame(Pong)
        await conn.open(NAME)
        count = len(conn.socket.received)
        await conn.socket.wait(lambda: any(isinstance(f, Ping) for f in conn.socket.received[count:]))
        await conn.finish()


async def test_awareness_is_relayed_answered_and_cleared_when_a_connection_leaves(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        a, b = Connection(hub), Connection(hub)
        await a.open(NAME)
        await b.open(NAME, token(device="d2"))
        a.socket.push(Awareness(NAME, encode_awareness_update([AwarenessEntry(11, 1, '{"user":"tech-a"}')])))
        relayed = await b.socket.wait_frame(Awareness, document=NAME)
        assert decode_awareness_update(relayed.data) == [AwarenessEntry(11, 1, '{"user":"tech-a"}')]
        assert not any(isinstance(f, Awareness) for f in a.socket.received), "not echoed to its sender"

        b.socket.push(QueryAwareness(NAME))
        await b.socket.wait(lambda: sum(isinstance(f, Awareness) for f in b.socket.received) == 2)

        await a.finish()
        await b.socket.wait(lambda: sum(isinstance(f, Awareness) for f in b.socket.received) == 3)
        removal = [f for f in b.socket.received if isinstance(f, Awareness)][-1]
        assert decode_awareness_update(removal.data) == [AwarenessEntry(11, 2, "null")]
        await b.finish()


async def test_malformed_awareness_state_vector_and_control_get_notices(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        conn = Connection(hub)
        await conn.open(NAME)
        conn.socket.push(Awareness(NAME, b"\x01\x02"))
        await conn.socket.wait_notice(NAME, "invalid_awareness")
        conn.socket.push(Sync(NAME, SyncStep.STEP1, b"\xff\xff\xff"))
        await conn.socket.wait_notice(NAME, "invalid_state_vector")
        conn.socket.push(Stateless(NAME, "{not json"))
        await conn.socket.wait_notice(NAME, "invalid_control")
        conn.socket.push(Stateless(NAME, encode_control(Hello(client="test"))))
        await conn.socket.wait_notice(NAME, "unsupported_message")
        conn.socket.push(Authenticated(NAME, "read-write"))
        await conn.socket.wait(lambda: sum(isinstance(f, Stateless) for f in conn.socket.received) == 5)
        await conn.finish()


async def test_close_leaves_the_document_and_later_frames_wait_for_a_new_auth(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        conn = Connection(hub)
        await conn.open(NAME)
        conn.socket.push(Close(NAME, ""))
        conn.socket.push(Sync(NAME, SyncStep.UPDATE, record_updates(1)[1][0]))
        conn.socket.push(Ping())
        await conn.socket.wait_frame(Pong)
        assert conn.socket.statuses(NAME) == [], "the update after Close waits for authentication"
        room = hub.rooms[("acme", NAME)]
        assert conn.session not in room.subscribers
        conn.socket.push(AuthToken(NAME, token()))
        await conn.socket.wait(lambda: conn.socket.statuses(NAME) == [True])
        await conn.finish()


async def test_broadcast_stateless_reaches_every_subscriber(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        a, b = Connection(hub), Connection(hub)
        await a.open(NAME)
        await b.open(NAME, token(device="d2"))
        a.socket.push(BroadcastStateless(NAME, '{"type":"typing"}'))
        await a.socket.wait_frame(Stateless, document=NAME, payload='{"type":"typing"}')
        await b.socket.wait_frame(Stateless, document=NAME, payload='{"type":"typing"}')
        await a.finish(), await b.finish()


async def test_text_frames_and_the_readonly_empty_step2(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        viewer = Connection(hub)
        await viewer.open(NAME, token(roles=("viewer",)))
        viewer.socket.push(Sync(NAME, SyncStep.STEP2, b"\x00\x00"))  # what a provider answers: nothing new
        await viewer.socket.wait(lambda: viewer.socket.statuses(NAME) == [True])
        viewer.socket.push("hello")
        code, _ = await viewer.socket.wait_closed()
        assert code == CloseCode.UNSUPPORTED_DATA
        await viewer.finish()


async def test_an_update_sent_before_its_predecessor_is_refused_then_accepted_in_order(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        conn = Connection(hub)
        await conn.open(NAME)
        _, updates = record_updates(3)
        conn.socket.push(Sync(NAME, SyncStep.UPDATE, updates[2]))
        await conn.socket.wait_notice(NAME, "missing_dependencies")
        for update in updates:
            conn.socket.push(Sync(NAME, SyncStep.UPDATE, update))
        await conn.socket.wait(lambda: len(conn.socket.statuses(NAME)) == 4)
        assert conn.socket.statuses(NAME) == [False, True, True, True]
        stored = await hub.store.load("acme", NAME)
        assert stored.updates == updates, "the refused one was not stored"
        await conn.finish()


async def test_a_failed_commit_is_refused_with_store_unavailable_and_the_connection_lives(tmp_path: Path) -> None:
    import sqlite3

    async with running_hub(tmp_path) as hub:
        conn = Connection(hub)
        await conn.open(NAME)
        with sqlite3.connect(tmp_path / "hub.db") as db:  # the store breaks under the running hub
            db.execute("DROP TABLE updates")
        conn.socket.push(Sync(NAME, SyncStep.UPDATE, record_updates(1)[1][0]))
        notice = await conn.socket.wait_notice(NAME, "store_unavailable")
        assert "append" in notice.message
        await conn.socket.wait(lambda: conn.socket.statuses(NAME) == [False])
        conn.socket.push(Ping())
        await conn.socket.wait_frame(Pong)  # still served
        await conn.finish()
