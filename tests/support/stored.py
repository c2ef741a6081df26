"""Read what a hub stored, straight from its database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from pycrdt import Doc

from sync.protocol import decode_state_vector
from sync.store import ConflictRecord, DeviceRecord, SqlStore


async def stored_doc(url: str, tenant: str, name: str) -> tuple[Doc, int]:
    """The document rebuilt from its stored snapshot and log, and the log's length."""
    store = SqlStore(url)
    await store.start()
    try:
        stored = await store.load(tenant, name)
    finally:
        await store.close()
    doc = Doc()
    for update in ([stored.snapshot] if stored.snapshot else []) + stored.updates:
        doc.apply_update(update)
    return doc, stored.log_length


async def stored_conflicts(
    url: str, name: str, *, tenant: str = "acme", until: Callable[[list[ConflictRecord]], bool] = bool,
    timeout: float = 5,
) -> list[ConflictRecord]:
    """The conflicts and violations stored for ``name``, once ``until`` holds of them (the hub saves them in the
    background) or ``timeout`` seconds have passed: then as they are."""
    store = SqlStore(url)
    await store.start()
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not until(rows := await store.list_conflicts(tenant, name=name)):
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.05)
        return rows
    finally:
        await store.close()


async def stored_device(url: str, tenant: str, device: str) -> DeviceRecord | None:
    """The device's row in the ``devices`` table, or ``None``."""
    store = SqlStore(url)
    await store.start()
    try:
        return await store.get_device(tenant, device)
    finally:
        await store.close()


def record_updates(count: int, key: str = "k") -> tuple[Doc, list[bytes]]:
    """A document and the ``count`` updates that made it: each sets one field of the record map."""
    from pycrdt import Map

    doc = Doc()
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    record = doc.get("record", type=Map)
    for i in range(count):
        record[f"{key}{i}"] = i
    return doc, updates


def state_vector(doc: Doc) -> dict[int, int]:
    """The document's state vector as {client: clock}."""
    return decode_state_vector(doc.get_state())
