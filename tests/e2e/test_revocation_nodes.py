"""Revoking a device through one hub node cuts it off on every node, and restoring it lets it in everywhere."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.support.client import Denied, HubClient
from tests.support.http import call
from tests.support.nodes import make_nodes, running

pytestmark = pytest.mark.postgres

NAME = "work_order:WO-7"


async def test_a_device_revoked_on_one_node_is_closed_on_another_within_a_second_and_restored_everywhere(
    tmp_path: Path, postgres_url: str, shared_redis_url: str, redis_prefix: str
) -> None:
    with running(make_nodes(tmp_path, 2, postgres_url, shared_redis_url, redis_prefix)) as (a, b):
        admin = a.token(sub="ops-1", device="console", roles=("admin",))
        lost = a.token(sub="tech-1", device="tablet-lost")
        async with HubClient.connect(b.ws_url) as tablet:
            await tablet.open(NAME, lost)
            assert await tablet.set_fields(NAME, {"summary": "before the loss"})
            deadline = time.monotonic() + 5  # node B writes the devices it serves in batches, about every second
            while (await call(f"{a.http_url}/admin/devices/tablet-lost", token=admin))[0] != 200:
                assert time.monotonic() < deadline, "the device never reached the store"
                await asyncio.sleep(0.1)
            started = time.monotonic()
            status, answer = await call(f"{a.http_url}/admin/devices/tablet-lost/revoke", "POST", token=admin)
            assert status == 200 and answer["closed"] == 0, "nothing of it on the node that was asked"
            assert await tablet.wait_closed(1.5) == 4403
            assert time.monotonic() - started < 1.5
        async with HubClient.connect(b.ws_url) as again:
            with pytest.raises(Denied, match=r"^device_revoked: "):
                await again.open(NAME, lost)
        status, _ = await call(f"{b.http_url}/admin/devices/tablet-lost/restore", "POST", token=admin)
        assert status == 200
        deadline = time.monotonic() + 2
        while True:  # node A learns of the restore made through node B within its refresh
            async with HubClient.connect(a.ws_url) as back:
                try:
                    await back.open(NAME, lost)
                    break
                except Denied:
                    assert time.monotonic() < deadline, "node A still refuses a restored device"
