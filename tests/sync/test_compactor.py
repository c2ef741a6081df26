"""Compaction: triggered by the document's real log length, whichever nodes its updates were written on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from pycrdt import Map

from sync.bus import InProcessBus
from sync.protocol import Sync, SyncStep
from tests.support.inproc import Connection, token
from tests.support.stored import record_updates
from tests.sync.bus_nodes import nodes

NAME = "work_order:WO-1"
THRESHOLD = 30
Compact = Callable[..., Awaitable[int]]


def counting(compact: Compact, folded: list[int]) -> Compact:
    async def counted(tenant: str, name: str, *, at_least: int = 1) -> int:
        folded.append(await compact(tenant, name, at_least=at_least))
        return folded[-1]

    return counted


async def test_updates_spread_over_three_nodes_compact_the_log_once_it_passes_the_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared = InProcessBus()
    async with nodes(tmp_path, 3, lambda: shared, compaction_threshold=THRESHOLD, message_burst=1000) as hubs:
        writers = [Connection(hub) for hub in hubs]
        for i, writer in enumerate(writers):
            await writer.open(NAME, token(device=f"d{i}"))
        folded: list[int] = []
        for hub in hubs:  # every node's compactions, to see that each entry is folded once
            monkeypatch.setattr(hub.store, "compact", counting(hub.store.compact, folded))
        # 20 updates per node: no node committed THRESHOLD of them itself, the document's log holds 60
        made = [record_updates(20, key=f"w{i}-")[1] for i in range(3)]
        for writer, updates in zip(writers, made):
            for update in updates:
                writer.socket.push(Sync(NAME, SyncStep.UPDATE, update))
        for writer in writers:
            await writer.socket.wait(lambda w=writer: w.socket.statuses(NAME) == [True] * 20)
        store = hubs[0].store
        async with asyncio.timeout(5):
            while await store.log_length("acme", NAME) >= THRESHOLD or any(
                    hub.rooms[("acme", NAME)].compacting for hub in hubs):
                await asyncio.sleep(0.02)

        remaining = await store.log_length("acme", NAME)
        assert remaining < THRESHOLD and sum(folded) + remaining == 60, "each entry folded once, by whichever node"
        for hub in hubs:
            room = hub.rooms[("acme", NAME)]
            assert room.log_length == remaining, "every node knows the log's real length"
        stored = await store.load("acme", NAME)
        assert stored.snapshot is not None
        everything = {f"w{i}-{j}": j for i in range(3) for j in range(20)}
        assert hubs[1].rooms[("acme", NAME)].doc.get("record", type=Map).to_py() == everything
        for writer in writers:
            await writer.finish()
