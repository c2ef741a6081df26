"""The hub refreshes a record's projection in the store after merges."""

from __future__ import annotations

import asyncio

from sync.store import Projection, SqlStore
from tests.support.client import HubClient
from tests.support.hub import HubProcess

NAME = "work_order:WO-77"


async def projection(url: str, name: str) -> Projection | None:
    store = SqlStore(url)
    await store.start()
    try:
        return await store.get_projection("acme", name)
    finally:
        await store.close()


async def wait_projection(url: str, name: str, status: str) -> Projection:
    for _ in range(100):
        row = await projection(url, name)
        if row is not None and row.status == status:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"projection of {name} never reached {status}: {row}")


async def test_projection_follows_merged_changes(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    async with HubClient.connect(hub.ws_url) as client:
        await client.open(NAME, hub.token())
        assert await client.set_fields(NAME, {"status": "OPEN", "technician": "tech-17", "title": "Pump 3"})
        first = await wait_projection(hub.database_url, NAME, "OPEN")
        assert (first.type, first.assignee) == ("work_order", "tech-17")
        assert first.body["record"]["title"] == "Pump 3"
        assert await client.set_fields(NAME, {"status": "IN_PROGRESS"})
        second = await wait_projection(hub.database_url, NAME, "IN_PROGRESS")
        assert second.updated_at >= first.updated_at
