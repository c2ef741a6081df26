"""Read what a hub stored, straight from its database."""

from __future__ import annotations

from pycrdt import Doc

from sync.protocol import decode_state_vector
from sync.store import DeviceRecord, SqlStore


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
