"""The board every node posts its admin snapshot to (contract over the in-process and the real Redis board),
the snapshot's bounds, and the poster that keeps a node on the board."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from sync.admin.nodes import (
    BoardUnavailable, InProcessBoard, NodeBoard, RedisBoard, SnapshotPoster, decode, encode, take,
)
from sync.admin.nodes.snapshot import MAX_CONNECTIONS, MAX_DOCUMENTS, MAX_ROOMS
from sync.admin.views import ConnectionView, RoomView, TrafficView
from tests.support.hub import free_port
from tests.support.redis_server import SHARED_URL, RedisServer


@pytest.fixture(params=["memory", "redis"])
async def board(request: pytest.FixtureRequest) -> AsyncIterator[NodeBoard]:
    backend: NodeBoard
    if request.param == "memory":
        backend = InProcessBoard()
    else:
        backend = RedisBoard(SHARED_URL, prefix=request.getfixturevalue("shared_redis_prefix"))
    try:
        yield backend
    finally:
        await backend.close()


async def test_entries_are_read_by_node_replaced_by_a_new_post_and_removed_by_leave(board: NodeBoard) -> None:
    assert await board.read() == {}
    await board.post("a", b"one", 5)
    await board.post("b", b"two", 5)
    await board.post("a", b"three", 5)
    assert await board.read() == {"a": b"three", "b": b"two"}
    await board.leave("a")
    await board.leave("a")  # leaving twice is harmless
    assert await board.read() == {"b": b"two"}


async def test_an_entry_not_posted_again_expires_after_its_time_to_live(board: NodeBoard) -> None:
    await board.post("a", b"short", 0.2)
    await board.post("b", b"long", 5)
    assert set(await board.read()) == {"a", "b"}
    await asyncio.sleep(0.35)
    assert await board.read() == {"b": b"long"}


async def test_a_redis_that_does_not_answer_is_board_unavailable() -> None:
    board = RedisBoard(f"redis://127.0.0.1:{free_port()}/0", prefix="nowhere", timeout_seconds=0.2)
    try:
        with pytest.raises(BoardUnavailable):
            await board.post("a", b"x", 1)
        with pytest.raises(BoardUnavailable):
            await board.read()
    finally:
        await board.close()


async def test_a_redis_that_stops_answering_costs_a_read_half_a_second_and_is_read_again_once_back(
    redis_server: RedisServer,
) -> None:
    board = RedisBoard(redis_server.url, prefix="paused")
    assert redis_server.process is not None
    try:
        await board.post("a", b"x", 5)
        redis_server.process.send_signal(signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(BoardUnavailable):
            await board.read()
        assert time.monotonic() - started < 1.0
        redis_server.process.send_signal(signal.SIGCONT)
        assert await board.read() == {"a": b"x"}
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
        await board.close()


def _connection(n: int, documents: int = 1) -> ConnectionView:
    at = datetime.fromtimestamp(1_800_000_000 + n, UTC)
    traffic = TrafficView(frames=1, bytes=10, frames_by_type={"auth": 1})
    return ConnectionView(id=f"n-{n}", node="n", user="u", device=f"d{n}", client_version="", since=at,
                          last_activity=at, documents=[f"work_order:WO-{i}" for i in range(documents)],
                          received=traffic, sent=traffic, acks_pending=0, acks_sent=0, refusals_sent=0)


def _room(n: int) -> RoomView:
    return RoomView(document=f"work_order:WO-{n:05}", node="n", subscribers=1, size_bytes=10, log_length=0,
                    last_write=None, pending_writes=0)


def test_a_snapshot_is_bounded_and_says_when_it_lists_a_part() -> None:
    now = datetime.now(UTC)
    small = take("n", now, [("acme", _connection(2)), ("globex", _connection(1))], [("acme", _room(1))])
    assert not small.truncated
    assert [c.id for c in small.connections["acme"]] == ["n-2"] and [c.id for c in small.connections["globex"]] == ["n-1"]
    assert decode(encode(small)) == small

    many = take("n", now, [("acme", _connection(n)) for n in reversed(range(MAX_CONNECTIONS + 1))], [])
    assert many.truncated and len(many.connections["acme"]) == MAX_CONNECTIONS
    assert many.connections["acme"][0].id == "n-0", "the oldest sockets are kept"

    busy = take("n", now, [("acme", _connection(1, documents=MAX_DOCUMENTS + 5))], [])
    assert busy.truncated and len(busy.connections["acme"][0].documents) == MAX_DOCUMENTS

    rooms = take("n", now, [], [("acme", _room(n)) for n in range(MAX_ROOMS + 1)])
    assert rooms.truncated and len(rooms.rooms["acme"]) == MAX_ROOMS
    worst = take("n", now, [("acme", _connection(n, documents=MAX_DOCUMENTS)) for n in range(MAX_CONNECTIONS)],
                 [("acme", _room(n)) for n in range(MAX_ROOMS)])
    assert len(encode(worst)) < 1_000_000


async def test_the_poster_posts_every_interval_and_leaves_when_cancelled() -> None:
    board = InProcessBoard()
    posted = 0

    def snapshot() -> object:
        nonlocal posted
        posted += 1
        return take("n", datetime.now(UTC), [], [])

    poster = SnapshotPoster(board, snapshot, interval=0.05, ttl=5)  # type: ignore[arg-type]
    task = asyncio.create_task(poster.run())
    await asyncio.sleep(0.22)
    assert set(await board.read()) == {"n"} and posted >= 3
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await board.read() == {}
