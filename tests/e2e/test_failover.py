"""The device SDK given several hub nodes: a node dies, the device moves on, resumes, and resends nothing acked.

Two hub processes on one Postgres database and one Redis bus (a key prefix of the test's own).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from client_sdk import LocalReplica, Records, SyncClient, SyncConfig
from sync.store import SqlStore
from tests.support.nodes import make_nodes, running

pytestmark = pytest.mark.postgres

JOB = "work_order:WO-77"
FAST = SyncConfig(backoff_base=0.05, backoff_cap=0.5, connect_timeout=2)


async def log_length(database_url: str) -> int:
    store = SqlStore(database_url)
    await store.start()
    try:
        return await store.log_length("acme", JOB)
    finally:
        await store.close()


async def test_a_device_moves_to_another_node_when_its_node_dies_and_resends_nothing_acknowledged(
    tmp_path: Path, postgres_url: str, shared_redis_url: str, redis_prefix: str
) -> None:
    with running(make_nodes(tmp_path, 2, postgres_url, shared_redis_url, redis_prefix)) as nodes:
        replica = await LocalReplica.open(tmp_path / "tablet.db", device="tablet-1")
        records = Records(replica, user="tech-1", roles=["technician"])
        await replica.follow(JOB)
        token = nodes[0].token(sub="tech-1", device="tablet-1")
        async with SyncClient(replica, [node.ws_url for node in nodes], token, config=FAST) as client:
            await records.create("work_order", "WO-77", {"status": "OPEN", "technician": "tech-1"})
            await client.wait_synced(10)
            for i in range(4):  # each acknowledged before the next: one update in the log each
                await records.set(JOB, title=f"step {i}")
                await client.wait_synced(10)
            assert client.url == nodes[0].ws_url
            acked = await log_length(postgres_url)
            nodes[0].kill()
            await records.set(JOB, title="typed while the node was down")
            await client.wait_synced(15)
            assert client.url == nodes[1].ws_url, "the device moved to the live node"
            assert client.pending == 0
        await replica.close()
        assert await log_length(postgres_url) == acked + 1, "only the one unacknowledged edit was sent again"
        view = await (await LocalReplica.open(tmp_path / "tablet.db", device="tablet-1")).get(JOB)
        assert view is not None and view.body["title"] == "typed while the node was down"
