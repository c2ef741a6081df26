"""Rejected writes: moved out of the outbox in one transaction, kept in the file, visible until dismissed."""

from __future__ import annotations

from pathlib import Path

from pycrdt import Doc, Map

from client_sdk import LocalReplica, Records
from tests.client_sdk.replica.test_outbox import fields_of

WO = "work_order:WO-1"


async def test_rejected_entries_leave_the_outbox_and_stay_in_the_file_with_their_refusal(tmp_path: Path) -> None:
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1", coalesce_ms=0, wall_clock=lambda: 1_700_000_000.0)
    records = Records(replica, user="u", roles=["technician"])
    await records.create("work_order", "WO-1", {"title": "typed offline"})
    await records.create("work_order", "WO-2", {"title": "still mine"})
    first, second = await replica.pending()

    kept = await replica.reject([first.id], "access_revoked", "access_revoked: reassigned")
    assert [(e.id, e.document, e.update, e.code, e.reason, e.created_at, e.rejected_at) for e in kept] == [
        (first.id, WO, first.update, "access_revoked", "access_revoked: reassigned", first.created_at, 1_700_000_000.0)]
    assert [e.id for e in await replica.pending()] == [second.id], "the other document's entry is untouched"
    assert (replica.pending_count(), replica.rejected_count(), replica.rejected_count(WO)) == (1, 1, 1)
    assert (await records.open(WO)).body["title"] == "typed offline", "the local document keeps the edit"
    await replica.close()

    reopened = await LocalReplica.open(tmp_path / "d.db", device="d1")
    (again,) = await reopened.rejected()
    assert again == kept[0] and fields_of([again.update])["title"] == "typed offline"
    assert await reopened.rejected("work_order:WO-2") == [] and reopened.rejected_count() == 1
    assert await reopened.reject([first.id], "forbidden", "twice") == [], "an entry is rejected once"
    await reopened.close()


async def test_dismissed_rejections_are_gone_for_good(tmp_path: Path) -> None:
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1", coalesce_ms=0)
    records = Records(replica, user="u", roles=["technician"])
    await records.create("work_order", "WO-1", {"title": "a"})
    await records.set(WO, title="b")
    ids = [e.id for e in await replica.pending()]
    await replica.reject(ids, "forbidden", "forbidden: not yours")
    assert [e.id for e in await replica.dismiss_rejected(ids[:1])] == ids[:1]
    assert [e.id for e in await replica.rejected()] == ids[1:] and replica.rejected_count() == 1
    assert await replica.dismiss_rejected([12345]) == []
    await replica.dismiss_rejected(ids[1:])
    assert await replica.rejected() == [] and replica.rejected_count(WO) == 0
    await replica.close()


async def test_a_document_that_left_its_scope_is_kept_until_its_rejections_are_dismissed(tmp_path: Path) -> None:
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1", coalesce_ms=0)
    records = Records(replica, user="u", roles=["technician"])
    sub = await replica.follow_scope("my_work_orders")
    await replica.apply_scope_members(sub, 1, members=[WO])
    await replica.apply_remote(WO, hub_update({"title": "from the hub"}))
    await records.set(WO, title="typed offline")
    await replica.apply_scope_members(sub, 2, removed=[WO])  # reassigned: it left the scope
    ids = [e.id for e in await replica.pending()]
    await replica.reject(ids, "forbidden", "forbidden: not yours")
    await replica.acknowledge([])  # what an acknowledgement would sweep
    assert (await records.open(WO)).body["title"] == "typed offline", "kept while the app has not seen it"
    await replica.dismiss_rejected(ids)
    assert not await replica.exists(WO), "dismissed: the document goes as the scope said"
    await replica.close()


def hub_update(fields: dict[str, object]) -> bytes:
    doc = Doc()
    doc.get("record", type=Map).update(fields)
    return doc.get_update()
