"""Coalescing: edits of one document within the window become one outbox entry; sealed entries never change."""

from __future__ import annotations

from pathlib import Path

import pytest
from pycrdt import Doc, Map

from client_sdk import LocalReplica, Records


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fields_of(updates: list[bytes]) -> dict:
    doc = Doc()
    for update in updates:
        doc.apply_update(update)
    return doc.get("record", type=Map).to_py() or {}


async def test_edits_within_the_window_merge_into_one_entry(tmp_path: Path) -> None:
    clock = FakeClock()
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1", coalesce_ms=50, clock=clock)
    records = Records(replica, user="u", roles=["technician"])
    await records.create("work_order", "WO-1", {"title": "t"})
    for i in range(5):
        clock.now += 0.009
        await records.set("work_order:WO-1", {f"f{i}": i})
    entries = await replica.pending()
    assert len(entries) == 1, "six edits within 50 ms are one entry"
    assert fields_of([entries[0].update]) == {"title": "t", "f0": 0, "f1": 1, "f2": 2, "f3": 3, "f4": 4}
    assert entries[0].base_state_vector == b"\x00"

    clock.now += 0.05
    await records.set("work_order:WO-1", late=True)
    entries = await replica.pending()
    assert len(entries) == 2 and fields_of([entries[1].update]) == {"late": True}
    await replica.close()


async def test_only_consecutive_edits_of_one_document_merge_and_order_is_kept(tmp_path: Path) -> None:
    clock = FakeClock()
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1", clock=clock)
    records = Records(replica, user="u", roles=["technician"])
    await records.create("work_order", "WO-1", {"n": 1})
    await records.create("work_order", "WO-2", {"n": 1})
    await records.set("work_order:WO-1", n=2)
    await records.set("work_order:WO-2", n=2)
    entries = await replica.pending()
    assert [e.document for e in entries] == ["work_order:WO-1", "work_order:WO-2"]
    assert [e.id for e in entries] == sorted(e.id for e in entries)
    assert replica.pending_count() == 2 and replica.pending_count("work_order:WO-1") == 1
    await replica.close()


async def test_a_sealed_entry_never_changes_again(tmp_path: Path) -> None:
    clock = FakeClock()
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1", clock=clock)
    records = Records(replica, user="u", roles=["technician"])
    await records.create("work_order", "WO-1", {"n": 1})
    assert await replica.sendable("work_order:WO-1") == [], "the open entry is not sendable yet"
    assert replica.seconds_to_seal("work_order:WO-1") == pytest.approx(0.05)
    (taken,) = await replica.sendable("work_order:WO-1", force=True)  # the sync client takes it to send it
    await records.set("work_order:WO-1", n=2)  # still within 50 ms, but the entry is sealed
    first, second = await replica.pending()
    assert first == taken
    assert fields_of([first.update]) == {"n": 1}
    assert fields_of([first.update, second.update]) == {"n": 2}
    clock.now += 1
    assert [e.id for e in await replica.sendable("work_order:WO-1", after=first.id)] == [second.id]
    await replica.close()


async def test_an_entry_whose_window_passed_is_reported_due_once(tmp_path: Path) -> None:
    clock = FakeClock()
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1", clock=clock)
    records = Records(replica, user="u", roles=["technician"])
    await records.create("work_order", "WO-1", {"n": 1})
    clock.now += 1
    assert replica.seconds_to_seal("work_order:WO-1") == 0.0, "due now: the sender must not sleep on it"
    assert replica.seconds_to_seal("work_order:WO-1") is None
    assert [e.document for e in await replica.sendable("work_order:WO-1")] == ["work_order:WO-1"]
    await replica.close()


async def test_acknowledged_entries_leave_and_counts_follow(tmp_path: Path) -> None:
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1", coalesce_ms=0)
    records = Records(replica, user="u", roles=["technician"])
    await records.create("work_order", "WO-1", {"n": 1})
    await records.set("work_order:WO-1", n=2)
    first, second = await replica.pending()
    removed = await replica.acknowledge([first.id])
    assert removed == [first]
    assert await replica.pending() == [second] and replica.pending_count() == 1
    assert await replica.acknowledge([first.id]) == [], "acknowledging twice changes nothing"
    await replica.close()

    reopened = await LocalReplica.open(tmp_path / "d.db", device="d1")
    assert reopened.pending_count() == 1 and await reopened.pending() == [second]
    await reopened.close()


async def test_only_local_edits_are_outbox_events_never_acknowledgements(tmp_path: Path) -> None:
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1", coalesce_ms=0)
    edited: list[str] = []
    replica.on_outbox.add(edited.append)
    records = Records(replica, user="u", roles=["technician"])
    await records.create("work_order", "WO-1", {"n": 1})
    assert edited == ["work_order:WO-1"] and replica.pending_documents() == ["work_order:WO-1"]
    (entry,) = await replica.pending()
    assert await replica.acknowledge([entry.id]) == [entry]
    assert edited == ["work_order:WO-1"], "the acknowledgement does not come back as an edit's event"
    assert replica.pending_count() == 0 and replica.pending_documents() == []
    await replica.close()
