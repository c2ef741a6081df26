"""The connections and rooms views of any node show every node's, each entry naming its node; a node that
dies drops out within the snapshots' time to live. Two real hub processes on one Postgres and one Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import HubClient
from tests.support.http import call
from tests.support.nodes import make_nodes, running
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.postgres

WO1, WO2 = "work_order:WO-N1", "work_order:WO-N2"
#: A snapshot lives 3 s (sync.admin.nodes.TTL_SECONDS); a node asked reads the board at once.
TTL = 3.0


async def until(check: Callable[[], Any], seconds: float, what: str) -> Any:
    """Call the async ``check`` until it returns something true; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        found = await check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        await asyncio.sleep(0.05)


async def node_id(http_url: str, admin: str) -> str:
    status, answer = await call(f"{http_url}/admin/connections", token=admin)
    assert status == 200, answer
    (local,) = [node for node in answer["nodes"] if node["local"]]
    return str(local["node"])


async def test_a_device_on_node_b_is_listed_by_node_a_with_its_documents_and_rooms_until_b_dies(
    tmp_path: Path, postgres_url: str, shared_redis_url: str, redis_prefix: str
) -> None:
    with running(make_nodes(tmp_path, 2, postgres_url, shared_redis_url, redis_prefix)) as (a, b):
        admin = a.token(sub="ops-1", device="console", roles=("admin",))
        a_id, b_id = await node_id(a.http_url, admin), await node_id(b.http_url, admin)
        assert a_id != b_id
        tablet = a.token(sub="tech-1", device="tablet-b")
        async with HubClient.connect(b.ws_url) as client:
            await client.open(WO1, tablet)
            await client.open(WO2, tablet)
            assert await client.set_fields(WO1, {"summary": "written through B"})
            opened = time.monotonic()

            async def listed_on_a() -> dict[str, Any] | None:
                status, answer = await call(f"{a.http_url}/admin/connections", token=admin)
                assert status == 200, answer
                found = [c for c in answer["connections"] if c["device"] == "tablet-b"]
                return answer if found and found[0]["documents"] == [WO1, WO2] else None

            answer = await until(listed_on_a, 2.0, "node B's socket in node A's connections")
            assert time.monotonic() - opened < 2.0
            (entry,) = answer["connections"]
            assert entry["node"] == b_id and entry["id"].startswith(b_id + "-") and entry["user"] == "tech-1"
            assert entry["received"]["frames_by_type"]["auth"] == 2 and entry["acks_sent"] >= 1
            assert {(n["node"], n["local"], n["truncated"]) for n in answer["nodes"]} == {(a_id, True, False),
                                                                                          (b_id, False, False)}
            assert answer["partial"] is None

            async def b_rooms_on_a() -> list[dict[str, Any]] | None:
                status, answer = await call(f"{a.http_url}/admin/rooms", token=admin)
                assert status == 200, answer
                rooms = [(r["document"], r["node"], r["subscribers"]) for r in answer["rooms"]]
                return answer["rooms"] if rooms == [(WO1, b_id, 1), (WO2, b_id, 1)] else None

            rooms = await until(b_rooms_on_a, 2.0, "node B's rooms in node A's rooms")
            assert rooms[0]["log_length"] == 1 and rooms[0]["last_write"] is not None and rooms[0]["size_bytes"] > 0

            async def device_on_a() -> dict[str, Any] | None:
                status, device = await call(f"{a.http_url}/admin/devices/tablet-b", token=admin)
                return device if status == 200 else None  # node B records the devices it serves about every second

            assert (await until(device_on_a, 3.0, "the device recorded"))["connections"] == 1, "its socket on B counts"

            # an admin of another tenant sees nothing of it, and a technician is refused
            other = a.token(sub="ops-9", tenant="globex", device="console", roles=("admin",))
            status, theirs = await call(f"{a.http_url}/admin/connections", token=other)
            assert status == 200 and theirs["connections"] == [] and len(theirs["nodes"]) == 2
            assert (await call(f"{a.http_url}/admin/rooms", token=other))[1]["rooms"] == []
            for path in ("/admin/connections", "/admin/rooms"):
                status, refused = await call(a.http_url + path, token=tablet)
                assert (status, refused["code"]) == (403, "forbidden")

            # actions on B's room, asked of A: compaction goes through the store; unload names the node
            status, compacted = await call(f"{a.http_url}/admin/documents/compact", "POST", token=admin,
                                           body={"document": WO1})
            assert (status, compacted) == (200, {"document": WO1, "folded": 1, "log_length": 0})
            status, refused = await call(f"{a.http_url}/admin/documents/unload", "POST", token=admin,
                                         body={"document": WO2})
            assert (status, refused["code"]) == (409, "document_on_other_node") and b_id in refused["reason"]
            status, refused = await call(f"{a.http_url}/admin/documents/unload", "POST", token=admin,
                                         body={"document": "work_order:WO-nowhere"})
            assert (status, refused["code"]) == (404, "document_not_loaded")

            b.kill()
            killed = time.monotonic()

        async def b_gone_from_a() -> bool:
            connections = (await call(f"{a.http_url}/admin/connections", token=admin))[1]
            rooms = (await call(f"{a.http_url}/admin/rooms", token=admin))[1]
            return (connections["connections"] == [] and rooms["rooms"] == []
                    and [n["node"] for n in connections["nodes"]] == [a_id]
                    and [n["node"] for n in rooms["nodes"]] == [a_id])

        await until(b_gone_from_a, TTL + 1.0, "node B's entries dropped from node A's views")
        assert time.monotonic() - killed <= TTL + 1.0


async def test_a_node_stopped_gracefully_leaves_the_views_at_once(
    tmp_path: Path, postgres_url: str, shared_redis_url: str, redis_prefix: str
) -> None:
    with running(make_nodes(tmp_path, 2, postgres_url, shared_redis_url, redis_prefix)) as (a, b):
        admin = a.token(sub="ops-1", device="console", roles=("admin",))

        async def nodes() -> list[str]:
            return [n["node"] for n in (await call(f"{a.http_url}/admin/connections", token=admin))[1]["nodes"]]

        await until(lambda: _count(nodes, 2), 2.0, "both nodes in node A's answer")
        assert b.terminate() == 0
        stopped = time.monotonic()
        await until(lambda: _count(nodes, 1), TTL, "node B gone from node A's answer")
        assert time.monotonic() - stopped < 1.0, "a graceful stop takes the node off the board, not its expiry"


async def _count(nodes: Callable[[], Any], expected: int) -> bool:
    return len(await nodes()) == expected


async def test_while_redis_is_down_a_node_answers_for_itself_and_says_why_and_for_all_once_it_is_back(
    tmp_path: Path, postgres_url: str, redis_server: RedisServer
) -> None:
    with running(make_nodes(tmp_path, 2, postgres_url, redis_server.url, "admin-outage")) as (a, _):
        admin = a.token(sub="ops-1", device="console", roles=("admin",))
        a_id = await node_id(a.http_url, admin)

        async def answer() -> dict[str, Any]:
            status, body = await call(f"{a.http_url}/admin/rooms", token=admin)
            assert status == 200, body
            return body  # type: ignore[no-any-return]

        await until(lambda: _nodes_listed(answer, 2), 2.0, "both nodes")
        redis_server.stop()
        started = time.monotonic()
        alone = await answer()
        assert time.monotonic() - started < 1.5, "a Redis that does not answer costs a request little"
        assert [n["node"] for n in alone["nodes"]] == [a_id]
        assert alone["partial"].startswith("other nodes could not be read: ")
        redis_server.start()
        await until(lambda: _nodes_listed(answer, 2), 5.0, "both nodes again once Redis is back")
        assert (await answer())["partial"] is None


async def _nodes_listed(answer: Callable[[], Any], expected: int) -> bool:
    return len((await answer())["nodes"]) == expected
