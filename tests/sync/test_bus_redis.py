"""The Redis bus through a Redis outage (a private server, stopped and started again on its port)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pycrdt import Map

from sync.bus import BusUnavailable, RedisBus
from sync.protocol import Sync, SyncStep
from tests.support.delivery import Deliveries, update_payloads
from tests.support.inproc import Connection, token
from tests.support.redis_server import RedisServer
from tests.support.stored import record_updates
from tests.sync.bus_nodes import nodes
from tests.sync.test_bus_contract import listening

NAME = "work_order:WO-1"


async def test_publish_fails_while_redis_is_down_and_the_subscription_comes_back(redis_server: RedisServer) -> None:
    bus = RedisBus(redis_server.url, prefix="outage")
    async with listening(bus) as heard:
        redis_server.stop()
        with pytest.raises(BusUnavailable):
            await bus.publish(b"lost")
        await asyncio.sleep(0.5)
        redis_server.start()
        await heard.wait(lambda: heard.connections == 2, timeout=10)
        await bus.publish(b"after")
        await heard.wait(lambda: heard.messages == [b"after"])


async def test_unreachable_redis_at_start_is_retried(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "late")
    bus = RedisBus(server.url, prefix="late")
    try:
        with pytest.raises(BusUnavailable):
            await bus.publish(b"x")
        async def start_later() -> None:
            await asyncio.sleep(0.5)
            await asyncio.to_thread(server.start)

        starting = asyncio.create_task(start_later())
        async with listening(bus) as heard:
            await starting
            await bus.publish(b"y")
            await heard.wait(lambda: heard.messages == [b"y"])
    finally:
        server.stop()


async def test_a_redis_outage_loses_no_update_and_duplicates_none(tmp_path: Path, redis_server: RedisServer) -> None:
    async with nodes(tmp_path, 2, lambda: RedisBus(redis_server.url, prefix="outage"), message_burst=1000) as (a, b):
        writer, local, remote = Connection(a), Connection(a), Connection(b)
        for i, conn in enumerate((writer, local, remote)):
            await conn.open(NAME, token(device=f"d{i}"))
        _, updates = record_updates(60, key="k")
        for update in updates[:20]:
            writer.socket.push(Sync(NAME, SyncStep.UPDATE, update))
        await remote.socket.wait(lambda: len(Deliveries().replay(update_payloads(remote.socket.received, NAME)).record) == 20)
        redis_server.stop()
        for update in updates[20:40]:
            writer.socket.push(Sync(NAME, SyncStep.UPDATE, update))
        await writer.socket.wait(lambda: writer.socket.statuses(NAME) == [True] * 40)
        await local.socket.wait(lambda: len(Deliveries().replay(update_payloads(local.socket.received, NAME)).record) == 40)
        assert len(b.rooms[("acme", NAME)].doc.get("record", type=Map)) == 20, "the other node could not hear them"
        redis_server.start()
        for update in updates[40:]:
            writer.socket.push(Sync(NAME, SyncStep.UPDATE, update))
        everything = {f"k{i}": i for i in range(60)}
        for conn in (local, remote):
            await conn.socket.wait(
                lambda c=conn: Deliveries().replay(update_payloads(c.socket.received, NAME)).record == everything,
                timeout=15)
        await asyncio.sleep(1.5)  # a heartbeat later: any late or repeated delivery would be here
        for conn in (local, remote):
            assert Deliveries().replay(update_payloads(conn.socket.received, NAME)).duplicates == 0
        assert Deliveries().replay(update_payloads(writer.socket.received, NAME)).record == {}, "nothing echoed back"
        for conn in (writer, local, remote):
            await conn.finish()


async def test_hubs_started_while_redis_is_down_serve_and_catch_up_once_it_comes(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "late")
    try:
        async with nodes(tmp_path, 2, lambda: RedisBus(server.url, prefix="late")) as (a, b):
            writer, remote = Connection(a), Connection(b)
            await writer.open(NAME)
            await remote.open(NAME, token(device="d2"))
            _, updates = record_updates(2, key="k")
            writer.socket.push(Sync(NAME, SyncStep.UPDATE, updates[0]))
            await writer.socket.wait(lambda: writer.socket.statuses(NAME) == [True])
            await asyncio.to_thread(server.start)
            writer.socket.push(Sync(NAME, SyncStep.UPDATE, updates[1]))
            await remote.socket.wait(
                lambda: Deliveries().replay(update_payloads(remote.socket.received, NAME)).record == {"k0": 0, "k1": 1},
                timeout=15)
            assert Deliveries().replay(update_payloads(remote.socket.received, NAME)).duplicates == 0
            await writer.finish(), await remote.finish()
    finally:
        server.stop()
