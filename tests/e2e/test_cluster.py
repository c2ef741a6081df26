"""Three hub processes on one Postgres and one Redis: convergence, exactly-once delivery, one migration."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from pycrdt import Map, get_state

from sync.protocol import Sync, SyncStep, decode_state_vector
from tests.support.client import HubClient
from tests.support.delivery import Deliveries
from tests.support.devices import WritingDevice
from tests.support.nodes import make_nodes, readiness, room_record, running, start_all
from tests.support.stored import stored_doc

pytestmark = pytest.mark.postgres

RECORDS = [f"work_order:WO-{i}" for i in range(50)]
DEVICES = 12
WRITES = 100  # online writes per device, after its offline ones


async def test_devices_on_three_nodes_converge_and_each_update_reaches_each_subscriber_once(
    tmp_path: Path, postgres_url: str, shared_redis_url: str, redis_prefix: str
) -> None:
    with running(make_nodes(tmp_path, 3, postgres_url, shared_redis_url, redis_prefix)) as nodes:
        async with HubClient.connect(nodes[0].ws_url) as w0, HubClient.connect(nodes[1].ws_url) as w1, \
                HubClient.connect(nodes[2].ws_url) as w2:
            watchers = [w0, w1, w2]
            for i, watcher in enumerate(watchers):
                for name in RECORDS:
                    await watcher.open(name, nodes[i].token(device=f"watcher-{i}"))
            devices = [WritingDevice(f"dev{i}", RECORDS, nodes[i % 3].token(device=f"dev{i}"),
                                     lambda i=i: nodes[i % 3].ws_url) for i in range(DEVICES)]
            for device in devices:  # offline edits on every record, before any device reconnects
                for name, doc in device.docs.items():
                    doc.get("record", type=Map)[f"{device.device}-offline"] = 1
            stay = asyncio.Event()
            writing = [asyncio.create_task(d.write(WRITES, stay=stay, deadline=240)) for d in devices]
            try:
                await _until_all_acked(devices)
                expected = {name: (await stored_doc(postgres_url, "acme", name))[0].get("record", type=Map).to_py()
                            for name in RECORDS}
                for name in RECORDS:
                    assert len(expected[name]) == DEVICES + DEVICES * WRITES // len(RECORDS)
                await _until(lambda: all(w.docs[n].get("record", type=Map).to_py() == expected[n]
                                         for w in watchers for n in RECORDS), "watchers converge")
                await _until(lambda: all(d.record(n) == expected[n] for d in devices for n in RECORDS),
                             "devices converge")
                await asyncio.sleep(1.5)  # a late or repeated delivery would have come by now
            finally:
                stay.set()
                await asyncio.gather(*writing)
            for i, watcher in enumerate(watchers):
                for name in RECORDS:
                    replay = Deliveries().replay_frames(watcher.frames, name)
                    assert replay.record == expected[name], f"watcher on node {i}, {name}"
                    assert replay.duplicates == 0, f"watcher on node {i} got {replay.duplicates} duplicates of {name}"
            for device in devices:
                assert device.client is not None and device.connections == 1
                own = {doc.client_id for doc in device.docs.values()}
                echoed = [f for f in device.client.frames if isinstance(f, Sync) and f.step is SyncStep.UPDATE
                          and own & decode_state_vector(get_state(f.data)).keys()]
                assert not echoed, f"{device.device} got {len(echoed)} of its own updates back"
        for node in nodes:
            for name in RECORDS:
                assert await room_record(node, name) == expected[name], f"node {node.port}, {name}"


async def _until_all_acked(devices: list[WritingDevice], timeout: float = 240) -> None:
    await _until(lambda: all(len(d.acked) >= WRITES for d in devices), "every write acknowledged", timeout)


async def _until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    ends = loop.time() + timeout
    while not condition():
        assert loop.time() < ends, f"timed out waiting until {what}"
        await asyncio.sleep(0.1)


def test_three_nodes_started_at_once_on_an_empty_database_migrate_it_once(
    tmp_path: Path, fresh_postgres_url: str, shared_redis_url: str, redis_prefix: str
) -> None:
    nodes = make_nodes(tmp_path, 3, fresh_postgres_url, shared_redis_url, redis_prefix, FIELDSYNC_LOG_LEVEL="info")
    try:
        start_all(nodes)
        assert [readiness(node) for node in nodes] == [200, 200, 200]
        said = [node.log.read_text() for node in nodes]
        migrated = [bool(re.search(r"database migrated to the newest schema", text)) for text in said]
        current = [bool(re.search(r"database already at the newest schema", text)) for text in said]
        assert sum(migrated) == 1 and sum(current) == 2, said
    finally:
        for node in nodes:
            node.stop()
