"""The review queue: conflicts that need a person, and resolving them with a normal hub update."""

from __future__ import annotations

from pathlib import Path

import pytest
from pycrdt import Text

from conflict.records import WARRANTY_CLAIM
from sync.access import load_rules
from sync.errors import ReviewError
from tests.sync.replicas import T0, Replica, at, conflicts_of, content, converged, create, record
from tests.support.inproc import running_hub
from tests.support.stored import stored_doc

NAME = "warranty_claim:WC-9"


async def test_two_final_statuses_go_to_review_and_the_resolution_converges_everywhere(
    tmp_path: Path, store_url: str
) -> None:
    async with running_hub(tmp_path, url=store_url) as hub:
        base = await create(hub, NAME, {"status": "SUBMITTED", "claim_number": "C-9"}, roles=("claims_manager",),
                            steps=({"status": "IN_REVIEW"}, {"status": "APPROVED"}, {"status": "PROCESSING"}))
        a = Replica(NAME, user="mgr-a", device="desk-a", roles=("claims_manager",), wall_ms=at(T0), base=base)
        b = Replica(NAME, user="mgr-b", device="desk-b", roles=("claims_manager",), wall_ms=at(T0 + 10), base=base)
        watcher = Replica(NAME, user="viewer", device="wall", roles=("viewer",), base=base)
        a.write("status", "COMPLETED")
        b.write("status", "REJECTED")  # later: the policy's winner, but COMPLETED is final by then
        for replica in (watcher, a, b):
            assert await replica.connect(hub) in ("read-write", "readonly")
        a.send(a.updates[0])
        assert await a.settled() == [True]
        b.send(b.updates[0])
        assert await b.settled() == [True]
        await converged(hub, NAME, watcher, a, b)
        assert record(watcher.doc)["status"] == "COMPLETED"
        assert [n.code for n in b.notices()] == ["invalid_transition"]

        (queued,) = await hub.review_queue("acme")
        assert (queued.kind, queued.field, queued.needs_review, queued.status) == ("conflict", "status", True, "open")
        assert sorted(v["value"] for v in queued.values) == ["COMPLETED", "REJECTED"]
        assert queued.id is not None

        resolved = await hub.resolve_conflict("acme", queued.id, "REJECTED", "sup-1")

        assert (resolved.status, resolved.resolved_by) == ("resolved", "sup-1")
        assert resolved.resolution == {"value": "REJECTED"}
        assert await hub.review_queue("acme") == []
        for replica in (watcher, a, b):  # sent live to every connected replica, the readonly one included
            await replica.live(lambda doc: record(doc).get("status") == "REJECTED")
        await converged(hub, NAME, watcher, a, b)
        history = content(watcher.doc, WARRANTY_CLAIM)[2]["history"]
        assert (history[-1]["old"], history[-1]["new"], history[-1]["by"]) == ("COMPLETED", "REJECTED", "sup-1")
        await hub.committer.drain()
        stored, _ = await stored_doc(store_url, "acme", NAME)
        assert content(stored, WARRANTY_CLAIM) == content(watcher.doc, WARRANTY_CLAIM)

        # a device that writes status afterwards builds on the resolution, it does not fight it
        a.receive()
        a.write("status", "REJECTED")
        a.send(a.updates[-1])
        assert (await a.settled())[-1] is True and a.notices() == []

        with pytest.raises(ReviewError) as again:
            await hub.resolve_conflict("acme", queued.id, "COMPLETED", "sup-2")
        assert again.value.code == "conflict_resolved"
        with pytest.raises(ReviewError) as missing:
            await hub.resolve_conflict("globex", queued.id, "COMPLETED", "sup-2")
        assert missing.value.code == "conflict_not_found"
        for replica in (watcher, a, b):
            await replica.close()


async def test_a_status_resolution_must_be_a_status_of_the_lifecycle(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        base = await create(hub, NAME, {"status": "SUBMITTED"}, roles=("claims_manager",),
                            steps=({"status": "IN_REVIEW"},))
        a = Replica(NAME, user="mgr-a", device="desk-a", roles=("claims_manager",), wall_ms=at(T0), base=base)
        b = Replica(NAME, user="mgr-b", device="desk-b", roles=("claims_manager",), wall_ms=at(T0 + 1), base=base)
        a.write("status", "APPROVED")
        b.write("status", "REJECTED")
        for replica in (a, b):
            await replica.connect(hub)
            replica.send(replica.updates[0])
            await replica.settled()
        (queued,) = await hub.review_queue("acme")
        assert queued.id is not None
        with pytest.raises(ReviewError) as refused:
            await hub.resolve_conflict("acme", queued.id, "DONE", "sup-1")
        assert refused.value.code == "invalid_resolution"
        assert (await hub.review_queue("acme"))[0].status == "open"
        for replica in (a, b):
            await replica.close()


async def test_a_refused_text_edit_settled_in_its_writers_favour_is_written_into_the_text(tmp_path: Path) -> None:
    async with running_hub(tmp_path, access=load_rules()) as hub:
        base = await create(hub, NAME, {"status": "SUBMITTED", "customer": {"customer_id": "cust-1"}},
                            roles=("claims_manager",))
        customer = Replica(NAME, user="cust-1", device="phone", roles=("customer",), base=base)
        customer.edit(lambda doc: doc.get("description", type=Text).insert(0, "It leaks at the seal"))
        assert await customer.connect(hub) == "read-write"
        customer.send(customer.updates[-1])
        assert await customer.settled() == [True]
        await customer.live(lambda doc: str(doc.get("description", type=Text)) == "")
        (row,) = [r for r in await conflicts_of(hub, NAME) if r.field == "description"]
        assert row.id is not None and row.code == "field_not_writable"
        with pytest.raises(ReviewError) as refused:
            await hub.resolve_conflict("acme", row.id, 42, "mgr-1")
        assert refused.value.code == "invalid_resolution"

        await hub.resolve_conflict("acme", row.id, row.values[0]["value"], "mgr-1")

        await customer.live(lambda doc: str(doc.get("description", type=Text)) == "It leaks at the seal")
        assert "description" not in record(hub.rooms[("acme", NAME)].doc), "a text, not a field of the record map"
        await customer.close()
