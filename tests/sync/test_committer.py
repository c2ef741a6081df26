"""Group commit: durable before resolved, in order, batched under load, failures reported."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from sync.documents.committer import Committer
from sync.errors import StoreError
from sync.store import LogEntry, SqlStore
from tests.support.inproc import migrated_sqlite


async def test_futures_resolve_in_order_after_commit_and_batches_grow_with_load(tmp_path: Path) -> None:
    store = SqlStore(await migrated_sqlite(tmp_path / "hub.db"))
    await store.start()
    committed: list[LogEntry] = []
    committer = Committer(store, on_committed=committed.extend)
    task = asyncio.create_task(committer.run())
    try:
        entries = [LogEntry("acme", "work_order:WO-1", bytes([0, i % 250])) for i in range(500)]
        futures = [committer.submit(entry) for entry in entries]
        order: list[int] = []
        for index, future in enumerate(futures):
            future.add_done_callback(lambda _, i=index: order.append(i))
        await asyncio.gather(*futures)
        assert order == list(range(500))
        assert committed == [replace(entry, seq=n) for n, entry in enumerate(entries, start=1)]
        assert committer.batches < 50, f"{committer.batches} transactions for 500 queued updates"
        stored = await store.load("acme", "work_order:WO-1")
        assert stored.updates == [entry.update for entry in entries]
    finally:
        task.cancel()
        await store.close()


class FailingStore(SqlStore):
    async def append(self, entries: Sequence[LogEntry]) -> list[LogEntry]:
        raise StoreError("disk on fire")


async def test_a_failed_commit_fails_every_future_of_the_batch(tmp_path: Path) -> None:
    store = FailingStore(await migrated_sqlite(tmp_path / "hub.db"))
    await store.start()
    committer = Committer(store, on_committed=lambda entries: pytest.fail("nothing was committed"))
    task = asyncio.create_task(committer.run())
    try:
        futures = [committer.submit(LogEntry("acme", "work_order:WO-1", b"\x00\x00")) for _ in range(3)]
        results = await asyncio.gather(*futures, return_exceptions=True)
        assert all(isinstance(r, StoreError) for r in results)
        await committer.drain()
    finally:
        task.cancel()
        await store.close()


async def test_entries_submitted_together_share_one_transaction_whatever_the_batch_size(tmp_path: Path) -> None:
    store = SqlStore(await migrated_sqlite(tmp_path / "hub.db"))
    await store.start()
    batches: list[list[LogEntry]] = []
    committer = Committer(store, on_committed=lambda entries: batches.append(list(entries)), max_batch=2)
    task = asyncio.create_task(committer.run())
    try:
        entries = [LogEntry("acme", "work_order:WO-1", bytes([0, i])) for i in range(5)]
        first = committer.submit(entries[0])
        grouped = committer.submit(*entries[1:4])  # a client's update and the hub's corrections of it
        last = committer.submit(entries[4])
        assert committer.pending == 5
        await asyncio.gather(first, grouped, last)
        numbered = [replace(entry, seq=n) for n, entry in enumerate(entries, start=1)]
        assert batches == [numbered[:1], numbered[1:4], numbered[4:]], "a group is never split, even over max_batch"
        assert (await store.load("acme", "work_order:WO-1")).updates == [e.update for e in entries]
    finally:
        task.cancel()
        await store.close()
