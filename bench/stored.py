"""What each server's store holds after a run, read with that server's own loading code.

A write counts as stored when the document rebuilt from the store the way its server rebuilds it contains
the update's map entry: fieldsync through ``SqlStore.load`` (snapshot plus log), pycrdt-websocket through
``SQLiteYStore.apply_updates`` (latest checkpoint plus the updates after it).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from pathlib import Path

import anyio
from pycrdt import Doc, Map
from pycrdt.store import YDocNotFound

from bench.pycrdt_server import store_class
from bench.servers import TENANT
from sync.store import SqlStore


def _present(doc: Doc, count: int) -> int:
    record = doc.get("record", type=Map)
    keys = set(record.keys())
    return sum(1 for i in range(count) if f"f{i}" in keys)


def fieldsync_stored(database_url: str, names: Sequence[str], count: int) -> int:
    """How many of each document's ``count`` field updates the hub's store holds, summed."""

    async def read() -> int:
        store = SqlStore(database_url)
        await store.start()
        try:
            total = 0
            for name in names:
                stored = await store.load(TENANT, name)
                doc = Doc()
                for update in ([stored.snapshot] if stored.snapshot else []) + stored.updates:
                    doc.apply_update(update)
                total += _present(doc, count)
            return total
        finally:
            await store.close()

    return asyncio.run(read())


def fieldsync_log_length(database_url: str, name: str) -> int:
    """Entries of ``name``'s update log not yet compacted into its snapshot."""

    async def read() -> int:
        store = SqlStore(database_url)
        await store.start()
        try:
            return await store.log_length(TENANT, name)
        finally:
            await store.close()

    return asyncio.run(read())


def pycrdt_stored(db_path: Path, names: Sequence[str], count: int) -> int:
    """The same, for pycrdt-websocket's SQLite store (rooms are named by the URL path)."""
    ystore_class = store_class(str(db_path))

    async def read() -> int:
        total = 0
        for name in names:
            doc = Doc()
            async with ystore_class(path=f"/{name}") as ystore:
                try:
                    await ystore.apply_updates(doc)
                except YDocNotFound:
                    pass
            total += _present(doc, count)
        return total

    return anyio.run(read)


def wait_files_quiet(paths: Sequence[Path], *, quiet: float = 2.0, timeout: float = 120.0) -> float:
    """Wait until none of ``paths`` has changed (size, mtime, existence) for ``quiet`` seconds.

    Only ``stat`` is used, so a writing server never meets a lock of ours. Returns the seconds waited.
    """
    started = time.monotonic()

    def snapshot() -> tuple[object, ...]:
        out: list[object] = []
        for path in paths:
            try:
                info = os.stat(path)
                out.append((info.st_size, info.st_mtime_ns))
            except FileNotFoundError:
                out.append(None)
        return tuple(out)

    last, since = snapshot(), time.monotonic()
    while time.monotonic() - started < timeout:
        time.sleep(0.2)
        now = snapshot()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return time.monotonic() - started
