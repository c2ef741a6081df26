"""The devices table kept by the hub: written in batches, a failed batch is written with the next one, and what
was noted last is written when the hub stops."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from sync.admin.devices import DeviceTracker
from sync.errors import StoreError
from sync.store import DeviceSeen, SqlStore
from tests.support.inproc import Connection, migrated_sqlite, running_hub, token

NAME = "work_order:WO-1"


class FlakyStore(SqlStore):
    """Fails the first ``save_devices``, as a database that just went away would."""

    failures = 1

    async def save_devices(self, rows: Sequence[DeviceSeen]) -> None:
        if self.failures:
            self.failures -= 1
            raise StoreError("save_devices failed: the database went away")
        await super().save_devices(rows)


async def test_a_device_is_recorded_once_its_batch_is_written_even_after_a_failed_write(tmp_path: Path) -> None:
    url = await migrated_sqlite(tmp_path / "hub.db")
    store = FlakyStore(url)
    await store.start()
    sockets: list[set[object]] = [set()]  # the hub's sessions, once it runs
    tracker = DeviceTracker(store, lambda: sockets[0], interval=3600)  # flushed by hand below
    try:
        async with running_hub(tmp_path, url, extensions=[tracker]) as hub:
            sockets[0] = hub.sessions  # type: ignore[assignment]
            conn = Connection(hub)
            await conn.open(NAME, token(sub="tech-7", device="tablet-7"))
            await tracker.flush()  # fails: kept for the next batch
            assert await store.get_device("acme", "tablet-7") is None
            await tracker.flush()
            device = await store.get_device("acme", "tablet-7")
            assert device is not None and device.user == "tech-7" and device.documents == [NAME]
            await conn.finish()
            await tracker.flush()  # the socket left: seen again, what it followed is kept
            left = await store.get_device("acme", "tablet-7")
            assert left is not None and left.last_seen_at >= device.last_seen_at and left.documents == [NAME]
    finally:
        await store.close()


async def test_what_was_noted_after_the_last_batch_is_written_when_the_hub_stops(tmp_path: Path) -> None:
    url = await migrated_sqlite(tmp_path / "hub.db")
    store = SqlStore(url)
    await store.start()
    sockets: list[set[object]] = [set()]
    tracker = DeviceTracker(store, lambda: sockets[0], interval=3600)  # no batch runs on its own here
    try:
        async with running_hub(tmp_path, url, extensions=[tracker]) as hub:
            sockets[0] = hub.sessions  # type: ignore[assignment]
            await Connection(hub).open(NAME, token(sub="tech-7", device="tablet-7"))
            await tracker.flush()
            first = await store.get_device("acme", "tablet-7")
            assert first is not None
        # the hub closed the socket as it stopped: seen until then
        last = await store.get_device("acme", "tablet-7")
        assert last is not None and last.last_seen_at > first.last_seen_at and last.documents == [NAME]
    finally:
        await store.close()


class HangingStore(SqlStore):
    """Writes the first batch, then never answers, as a database behind a dead network path would."""

    written = 0

    async def save_devices(self, rows: Sequence[DeviceSeen]) -> None:
        self.written += 1
        if self.written > 1:
            await asyncio.Event().wait()
        await super().save_devices(rows)


async def test_the_write_at_stop_is_bounded_and_a_loss_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = await migrated_sqlite(tmp_path / "hub.db")
    store = HangingStore(url)
    await store.start()
    sockets: list[set[object]] = [set()]
    tracker = DeviceTracker(store, lambda: sockets[0], interval=3600, last_flush_seconds=0.3)
    try:
        async with running_hub(tmp_path, url, extensions=[tracker]) as hub:
            sockets[0] = hub.sessions  # type: ignore[assignment]
            await Connection(hub).open(NAME, token(sub="tech-7", device="tablet-7"))
            await tracker.flush()
            started = time.monotonic()
        assert time.monotonic() - started < 3
        assert "saving 1 devices at shutdown took over 0.3 s: their last sight is lost" in caplog.text
    finally:
        await store.close()
