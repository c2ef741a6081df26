"""The admin views merging the entries of two hubs in one process (one SQLite file, one bus, one board)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest

from server.auth import JwtVerifier
from sync.admin import Admin
from sync.admin.nodes import BoardUnavailable, InProcessBoard, NodeBoard
from sync.bus import InProcessBus
from sync.errors import AdminError
from sync.hub import Hub
from sync.protocol.codes import ErrorCode
from sync.store import SqlStore
from tests.support.inproc import OPEN_ACCESS, SECRET, Connection, migrated_sqlite, token

WO = "work_order:WO-1"


@asynccontextmanager
async def admins(tmp_path: Path, board: NodeBoard) -> AsyncIterator[list[tuple[Hub, Admin]]]:
    """Two hubs on one SQLite file, one bus and one board, each with its admin."""
    url = await migrated_sqlite(tmp_path / "hub.db")
    bus = InProcessBus()
    async with AsyncExitStack() as stack:
        pairs = []
        for _ in range(2):
            store = SqlStore(url)
            await store.start()
            stack.push_async_callback(store.close)
            admin = Admin(store, JwtVerifier(secret=SECRET), board=board)
            hub = Hub(store, admin.verifier, bus=bus, extensions=admin.extensions, access=OPEN_ACCESS)
            admin.bind(hub)
            await admin.start()
            await stack.enter_async_context(hub.running())
            pairs.append((hub, admin))
        yield pairs


async def _until(check: object, seconds: float = 3.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not within the time")


async def test_either_node_lists_both_nodes_sockets_and_rooms_and_refuses_to_unload_the_others(tmp_path: Path) -> None:
    board = InProcessBoard()
    async with admins(tmp_path, board) as [(hub_a, admin_a), (hub_b, admin_b)]:
        device = Connection(hub_b)
        await device.open(WO, token(device="tablet-b"))

        async def listed() -> bool:
            answer = await admin_a.connections("acme")
            return [(c.node, c.device, c.documents) for c in answer.connections] == [(hub_b.node_id, "tablet-b", [WO])]

        await _until(listed)
        answer = await admin_a.connections("acme")
        assert [(n.node, n.local) for n in answer.nodes] == [(hub_a.node_id, True), (hub_b.node_id, False)]
        assert answer.partial is None and (await admin_a.connections("globex")).connections == []
        rooms = await admin_a.rooms("acme")
        assert [(r.document, r.node, r.subscribers) for r in rooms.rooms] == [(WO, hub_b.node_id, 1)]

        await admin_b.devices.flush()  # node B records the devices it serves
        assert (await admin_a.device("acme", "tablet-b")).connections == 1, "its socket on node B counts"
        assert [(d.device, d.connections) for d in (await admin_a.devices_page("acme")).devices] == [("tablet-b", 1)]

        with pytest.raises(AdminError) as refused:
            await admin_a.unload("acme", WO)
        assert refused.value.code == ErrorCode.DOCUMENT_ON_OTHER_NODE and hub_b.node_id in refused.value.reason
        with pytest.raises(AdminError) as refused:
            await admin_a.unload("acme", "work_order:WO-nowhere")
        assert refused.value.code == ErrorCode.DOCUMENT_NOT_LOADED
        await device.finish()


async def test_without_the_board_a_node_answers_for_itself_and_says_why(tmp_path: Path) -> None:
    class Down(InProcessBoard):
        async def read(self) -> dict[str, bytes]:
            raise BoardUnavailable("read from Redis failed: ConnectionError: refused")

    async with admins(tmp_path, Down()) as [(hub_a, admin_a), _]:
        device = Connection(hub_a)
        await device.open(WO, token(device="tablet-a"))
        answer = await admin_a.connections("acme")
        assert [n.node for n in answer.nodes] == [hub_a.node_id]
        assert [c.device for c in answer.connections] == ["tablet-a"]
        assert answer.partial == "other nodes could not be read: read from Redis failed: ConnectionError: refused"
        await device.finish()
