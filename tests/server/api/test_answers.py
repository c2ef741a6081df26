"""The API's cache on a real hub: a merge invalidates exactly its tenant's answers; Redis down, the store answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from sync import InProcessCache, RedisCache
from sync.store import SqlStore, upgrade
from tests.server.api.inproc_app import SUP, running
from tests.support.inproc import token
from tests.support.redis_server import RedisServer
from tests.support.seed import seed_records

OTHER = {"Authorization": f"Bearer {token('sup', tenant='globex', roles=('supervisor',))}"}


@pytest.fixture
def projection_reads() -> Iterator[list[str]]:
    """SELECTs over the projections table sent by any engine of this process while the test runs."""
    seen: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM projections" in statement:
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", on_execute)
    yield seen
    event.remove(Engine, "before_cursor_execute", on_execute)


async def seed(url: str) -> None:
    store = SqlStore(url)
    await store.start()
    try:
        await seed_records(store, "acme", {
            "work_order:WO-1": {"number": "WO-1", "status": "OPEN", "technician": "ana"},
            "work_order:WO-2": {"number": "WO-2", "status": "OPEN", "technician": "ben"},
        })
        await seed_records(store, "globex", {"work_order:WO-1": {"number": "WO-1", "status": "OPEN"}})
    finally:
        await store.close()


async def test_a_merge_invalidates_exactly_its_tenants_pages_and_reports(
    store_url: str, projection_reads: list[str]
) -> None:
    await seed(store_url)
    async with running(store_url, InProcessCache()) as hub:
        for path, headers in (("/api/records", SUP), ("/api/reports", SUP), ("/api/records", OTHER)):
            await hub.get(path, headers)
        projection_reads.clear()
        first = await hub.get("/api/records")
        await hub.get("/api/reports")
        await hub.get("/api/records", OTHER)
        assert projection_reads == [], "answered from the cache"
        assert "priority" not in first["items"][0]["record"]

        await hub.merge("work_order:WO-1", "priority", "HIGH")
        projection_reads.clear()
        page = await hub.get("/api/records")
        assert len(projection_reads) == 1, "the merged tenant's page is read again"
        assert {item["name"]: item["record"].get("priority") for item in page["items"]}["work_order:WO-1"] == "HIGH"
        await hub.get("/api/reports")
        read = len(projection_reads)
        assert read > 1, "and its reports"
        await hub.get("/api/records", OTHER)
        assert len(projection_reads) == read, "another tenant's answers stay cached"
        assert hub.answers.hits >= 4 and hub.answers.failures == 0


async def test_with_redis_down_the_api_answers_from_the_store_and_counts_it(
    sqlite_url: str, redis_server: RedisServer
) -> None:
    await upgrade(sqlite_url)
    await seed(sqlite_url)
    async with running(sqlite_url, RedisCache(redis_server.url, timeout_seconds=0.3)) as hub:
        await hub.get("/api/records")
        assert (await hub.get("/api/records"))["items"] and hub.answers.hits == 1

        redis_server.stop()
        started = time.monotonic()
        page = await hub.get("/api/records")
        assert [item["name"] for item in page["items"]] and hub.answers.failures == 1
        for _ in range(3):
            await hub.get("/api/reports")
        assert time.monotonic() - started < 3, "a dead Redis costs one timeout, then is left alone for a while"
        assert hub.answers.failures == 1 and hub.answers.bypassed == 3

        # a merge while Redis is down: its invalidation waits, and readers go to the store meanwhile
        conn_task = asyncio.create_task(hub.merge("work_order:WO-2", "priority", "LOW"))
        await asyncio.sleep(1)
        assert hub.answers.invalidation.pending("acme")
        redis_server.start()
        await asyncio.wait_for(conn_task, 20)
        page = await hub.get("/api/records")
        assert {item["name"]: item["record"].get("priority") for item in page["items"]}["work_order:WO-2"] == "LOW"
