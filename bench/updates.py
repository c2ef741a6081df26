"""The Yjs updates every workload sends, made with pycrdt before any clock starts.

Each writer is a pycrdt ``Doc`` with a fixed client id; each of its updates sets one new entry of the
root map ``record``, so update ``i`` is exactly one struct at clock ``i`` of that client. Receivers
recognise an update by (client id, clock) from its header (see ``bench.wire``), so no timestamp needs to
travel inside the payload and the payload stays a plain small record edit.
"""

from __future__ import annotations

from dataclasses import dataclass

from pycrdt import Array, Doc, Map

#: Client ids of the benchmark's writers start here (any id below 2**53 is valid for Yjs).
CLIENT_BASE = 1_000_000


def _capture(doc: Doc) -> tuple[list[bytes], object]:
    updates: list[bytes] = []
    subscription = doc.observe(lambda event: updates.append(event.update))
    return updates, subscription


def field_updates(client_id: int, count: int) -> list[bytes]:
    """``count`` small map edits of one writer: ``record["f<i>"] = "v<i>"``, update ``i`` at clock ``i``."""
    doc = Doc(client_id=client_id)
    record = doc.get("record", type=Map)
    updates, subscription = _capture(doc)
    for i in range(count):
        record[f"f{i}"] = f"v{i}"
    doc.unobserve(subscription)  # type: ignore[arg-type]
    return updates


#: The catch-up document: half its updates overwrite one of these record fields, half append an event.
CATCHUP_FIELDS = 20


def catchup_updates(count: int, client_id: int = CLIENT_BASE) -> list[bytes]:
    """A work order edited ``count`` times: status-like fields overwritten and an event log appended to."""
    doc = Doc(client_id=client_id)
    record = doc.get("record", type=Map)
    events = doc.get("events", type=Array)
    updates, subscription = _capture(doc)
    for i in range(count):
        if i % 2:
            events.append(f"event {i}: checked")
        else:
            record[f"field{i // 2 % CATCHUP_FIELDS}"] = f"value {i}"
    doc.unobserve(subscription)  # type: ignore[arg-type]
    return updates


def catchup_expected(count: int) -> tuple[int, int]:
    """(events, record fields) that a complete copy of the catch-up document holds."""
    return count // 2, min(CATCHUP_FIELDS, (count + 1) // 2)


def catchup_check(update: bytes, count: int) -> bool:
    """Whether ``update`` (a step 2 from the server) rebuilds the whole catch-up document."""
    doc = Doc()
    doc.apply_update(update)
    events, fields = catchup_expected(count)
    return len(doc.get("events", type=Array)) == events and len(doc.get("record", type=Map)) == fields


def small_record(client_id: int) -> bytes:
    """One update that fills a fresh work order with a few fields (the idle workload's documents)."""
    doc = Doc(client_id=client_id)
    updates, subscription = _capture(doc)
    with doc.transaction():
        record = doc.get("record", type=Map)
        record["status"] = "OPEN"
        record["assignee"] = f"tech-{client_id % 1000}"
        record["title"] = "Replace the pump seal"
    doc.unobserve(subscription)  # type: ignore[arg-type]
    return updates[0]


@dataclass(frozen=True, slots=True)
class OfflineDocument:
    """One device's document for the reconnect storm."""

    seed: bytes
    """The content the hub already has (sent before the device went offline)."""
    state_vector: bytes
    """The device's state vector after its offline edits (its step 1 on reconnect)."""
    offline: bytes
    """The offline edits, merged into one update as the SDK sends its outbox after the hub's step 1."""
    edits: int


def offline_document(client_id: int, edits: int) -> OfflineDocument:
    """A seeded document and ``edits`` offline field edits on it."""
    doc = Doc(client_id=client_id)
    record = doc.get("record", type=Map)
    with doc.transaction():
        record["status"] = "ASSIGNED"
        record["title"] = f"Inspection {client_id}"
    seed = doc.get_update()
    seed_state = doc.get_state()
    for i in range(edits):
        record[f"reading{i}"] = f"{20 + i}.5"
    return OfflineDocument(seed, doc.get_state(), doc.get_update(seed_state), edits)
