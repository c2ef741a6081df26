"""A cluster through its faults: nodes SIGKILLed 20 times (in turn), Redis down for 10 s, Postgres down for 10 s.

Every fault here is made to services of the test's own: hub processes it started, a private Redis server
and a private PostgreSQL server (``tests/support/redis_server.py``, ``tests/support/postgres_cluster.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pycrdt import Map, get_state

from server.proxy import RoundRobinProxy
from sync.errors import STORE_RETRY_AFTER
from sync.protocol import Sync, SyncStep, decode_state_vector
from tests.support.client import HubClient
from tests.support.delivery import Deliveries
from tests.support.devices import WritingDevice
from tests.support.hub import HubProcess
from tests.support.nodes import make_nodes, readiness, readiness_body, room_record, running
from tests.support.postgres_cluster import PostgresCluster
from tests.support.redis_server import RedisServer
from tests.support.stored import stored_doc

pytestmark = pytest.mark.postgres

RECORDS = [f"work_order:WO-{i}" for i in range(10)]
KILLS = 20


async def until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    ends = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < ends, f"timed out waiting until {what}"
        await asyncio.sleep(0.1)


async def stored_records(url: str) -> dict[str, dict[str, object]]:
    return {name: (await stored_doc(url, "acme", name))[0].get("record", type=Map).to_py() for name in RECORDS}


def assert_acked_stored(devices: list[WritingDevice], stored: dict[str, dict[str, object]]) -> None:
    acked = sum(len(d.acked) for d in devices)
    lost = [(name, key) for d in devices for name, key in d.acked if key not in stored[name]]
    assert acked > 0 and not lost, f"{len(lost)} of {acked} acknowledged updates lost, first {lost[:5]}"


def own_echoes(device: WritingDevice) -> int:
    assert device.client is not None
    own = {doc.client_id for doc in device.docs.values()}
    return sum(1 for f in device.client.frames if isinstance(f, Sync) and f.step is SyncStep.UPDATE
               and own & decode_state_vector(get_state(f.data)).keys())


async def test_a_node_sigkilled_twenty_times_in_turn_loses_nothing_acknowledged(
    tmp_path: Path, postgres_url: str, shared_redis_url: str, redis_prefix: str
) -> None:
    with running(make_nodes(tmp_path, 3, postgres_url, shared_redis_url, redis_prefix)) as nodes:
        proxy = RoundRobinProxy([("127.0.0.1", node.port) for node in nodes])
        await proxy.start()
        url = f"ws://127.0.0.1:{proxy.port}/sync"
        devices = [WritingDevice(f"dev{i}", RECORDS, nodes[0].token(device=f"dev{i}"), lambda: url)
                   for i in range(6)]
        stop, stay = asyncio.Event(), asyncio.Event()
        writing = [asyncio.create_task(d.write(until=stop, pace=0.02, deadline=300, stay=stay)) for d in devices]
        try:
            for kill in range(KILLS):
                # each kill takes the next node in turn: the devices the proxy gave it since its last kill
                victim = nodes[kill % len(nodes)]
                acked = sum(len(d.acked) for d in devices)
                await until(lambda: sum(len(d.acked) for d in devices) > acked, "writes are acknowledged")
                await asyncio.sleep(0.5)
                victim.kill()
                await asyncio.sleep(0.5)
                await asyncio.to_thread(victim.restart)
            await asyncio.sleep(1)
            stop.set()
            await until(lambda: all(d.client is not None for d in devices), "every device finished", 120)
            stored = await stored_records(postgres_url)
            assert_acked_stored(devices, stored)
            reconnects = sum(d.connections for d in devices) - len(devices)
            assert reconnects >= KILLS, f"only {reconnects} reconnects for {KILLS} kills: the kills missed the devices"
            print(f"\n{KILLS} kills: {sum(len(d.acked) for d in devices)} acknowledged writes, "
                  f"{sum(d.connections for d in devices)} connections of {len(devices)} devices")
            await until(lambda: all(d.record(n) == stored[n] for d in devices for n in RECORDS), "devices converge")
        finally:
            stop.set()
            stay.set()
            await asyncio.gather(*writing, return_exceptions=True)
            await proxy.close()
        for node in nodes:
            for name in RECORDS:
                assert await room_record(node, name) == stored[name], f"node {node.port} serves {name}"


async def test_redis_down_for_ten_seconds_under_load(
    tmp_path: Path, postgres_url: str, redis_server: RedisServer
) -> None:
    with running(make_nodes(tmp_path, 3, postgres_url, redis_server.url, "outage")) as nodes:
        async with HubClient.connect(nodes[0].ws_url) as w0, HubClient.connect(nodes[1].ws_url) as w1, \
                HubClient.connect(nodes[2].ws_url) as w2:
            watchers = [w0, w1, w2]
            for i, watcher in enumerate(watchers):
                for name in RECORDS:
                    await watcher.open(name, nodes[i].token(device=f"watcher-{i}"))
            devices = [WritingDevice(f"dev{i}", RECORDS, nodes[i].token(device=f"dev{i}"),
                                     lambda i=i: nodes[i].ws_url) for i in range(3)]
            stop, stay = asyncio.Event(), asyncio.Event()
            writing = [asyncio.create_task(d.write(until=stop, pace=0.01, deadline=120, stay=stay)) for d in devices]
            try:
                await asyncio.sleep(2)
                redis_server.stop()
                during = [len(w.frames) for w in watchers]
                await asyncio.sleep(10)
                local = [len(w.frames) - before for w, before in zip(watchers, during)]
                print(f"\nframes to the watchers during the Redis outage: {local}")
                assert all(count > 100 for count in local), f"local fan-out went on during the outage: {local}"
                said = [await asyncio.to_thread(readiness_body, node) for node in nodes]
                assert said == [{"status": "ready", "bus": "unavailable"}] * 3, "ready, and saying the bus is not"
                redis_server.start()
                await asyncio.sleep(3)
                said = [await asyncio.to_thread(readiness_body, node) for node in nodes]
                assert said == [{"status": "ready", "bus": "ok"}] * 3
                stop.set()
                await until(lambda: all(d.client is not None for d in devices), "every device finished")
                stored = await stored_records(postgres_url)
                assert_acked_stored(devices, stored)
                await until(lambda: all(w.docs[n].get("record", type=Map).to_py() == stored[n]
                                        for w in watchers for n in RECORDS), "every watcher has every update")
                await until(lambda: all(d.record(n) == stored[n] for d in devices for n in RECORDS), "devices converge")
                await asyncio.sleep(1.5)
            finally:
                stop.set()
                stay.set()
                await asyncio.gather(*writing, return_exceptions=True)
            for i, watcher in enumerate(watchers):
                for name in RECORDS:
                    replay = Deliveries().replay_frames(watcher.frames, name)
                    assert replay.record == stored[name]
                    assert replay.duplicates == 0, f"watcher on node {i}: {replay.duplicates} duplicates of {name}"
            assert [own_echoes(d) for d in devices] == [0, 0, 0]
        for node in nodes:
            for name in RECORDS:
                assert await room_record(node, name) == stored[name]


async def test_postgres_down_for_ten_seconds_under_load(
    tmp_path: Path, postgres_cluster: PostgresCluster, shared_redis_url: str, redis_prefix: str
) -> None:
    database = postgres_cluster.create_database("fieldsync")
    with running(make_nodes(tmp_path, 3, database, shared_redis_url, redis_prefix)) as nodes:
        devices = [WritingDevice(f"dev{i}", RECORDS, nodes[i].token(device=f"dev{i}"),
                                 lambda i=i: nodes[i].ws_url) for i in range(3)]
        stop, stay = asyncio.Event(), asyncio.Event()
        writing = [asyncio.create_task(d.write(until=stop, pace=0.02, deadline=120, stay=stay)) for d in devices]
        probes: list[int] = []

        async def probe() -> None:
            while not stop.is_set():
                probes.append(await asyncio.to_thread(readiness, nodes[0]))
                await asyncio.sleep(0.3)

        probing = asyncio.create_task(probe())
        try:
            await asyncio.sleep(2)
            await asyncio.to_thread(postgres_cluster.stop)
            await asyncio.sleep(10)
            await asyncio.to_thread(postgres_cluster.start)
            await until(lambda: probes[-1] == 200, "/readyz is 200 again", 30)
            await asyncio.sleep(2)
            stop.set()
            await until(lambda: all(d.client is not None for d in devices), "every device finished", 60)
            stored = await stored_records(database)
            assert_acked_stored(devices, stored)
            refusals = [code for d in devices for code in d.refusals]
            assert refusals and set(refusals) == {"store_unavailable"}, refusals
            assert {r for d in devices for r in d.retry_afters} == {STORE_RETRY_AFTER}
            print(f"\npostgres down 10 s: {sum(len(d.acked) for d in devices)} acknowledged writes, "
                  f"{len(refusals)} refused and re-sent; /readyz {probes.count(503)} x 503")
            await until(lambda: all(d.record(n) == stored[n] for d in devices for n in RECORDS), "devices converge")
        finally:
            stop.set()
            stay.set()
            await asyncio.gather(*writing, probing, return_exceptions=True)
        assert probes[0] == 200 and 503 in probes and probes[-1] == 200, probes
        for node in nodes:
            for name in RECORDS:
                assert await room_record(node, name) == stored[name]
