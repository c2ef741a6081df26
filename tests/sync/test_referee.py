"""The hub holds record writes to the domain rules: conflicts, corrections and violations, on a real hub and store.

Each test runs on SQLite and on Postgres (``store_url``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pycrdt import Map

from conflict import FieldConflict, parse_clocks
from tests.sync.replicas import T0, Replica, at, conflicts_of, content, converged, create, record
from tests.support.inproc import running_hub

@pytest.mark.parametrize("later", ["dev-a", "dev-z"])
@pytest.mark.parametrize("yjs_keeps", ["earlier", "later"])
async def test_same_field_concurrent_edits_make_one_conflict_and_the_later_hlc_wins_everywhere(
    tmp_path: Path, store_url: str, later: str, yjs_keeps: str
) -> None:
    name = "work_order:WO-1"
    async with running_hub(tmp_path, url=store_url) as hub:
        base = await create(hub, name, {"status": "OPEN", "priority": "LOW", "title": "Pump 3"})
        early_id, late_id = ("dev-z", "dev-a") if later == "dev-a" else ("dev-a", "dev-z")
        # Yjs alone keeps the value of the larger client id; make it the one the policy must not keep, or not
        big, small = 2_000_000_000, 1_000
        early_client, late_client = (big, small) if yjs_keeps == "earlier" else (small, big)
        early = Replica(name, user="tech-1", device=early_id, roles=("technician",), wall_ms=at(T0 + 1_000),
                        base=base, client_id=early_client)
        late = Replica(name, user="tech-2", device=late_id, roles=("technician",), wall_ms=at(T0 + 2_000),
                       base=base, client_id=late_client)
        watcher = Replica(name, user="sup", device="web", roles=("supervisor",), base=base)
        early.write("priority", "HIGH")
        early.write("title", "Pump 3 (seal)")
        late.write("priority", "CRITICAL")
        for replica in (watcher, early, late):
            assert await replica.connect(hub) == "read-write"

        for first, second in ((late, early),):  # the later write reaches the hub first: the harder order
            first.send(first.updates[0])
            assert await first.settled() == [True]
            for update in second.updates:
                second.send(update)
            assert await second.settled() == [True, True]

        for replica in (watcher, early, late):  # live, as sent: the author of the losing write included
            await replica.live(lambda doc: record(doc).get("priority") == "CRITICAL")
        await converged(hub, name, watcher, early, late)
        final = record(watcher.doc)
        assert final["priority"] == "CRITICAL" and final["title"] == "Pump 3 (seal)"
        (row,) = await conflicts_of(hub, name)
        assert (row.kind, row.field, row.needs_review, row.status) == ("conflict", "priority", False, "open")
        assert sorted(v["value"] for v in row.values) == ["CRITICAL", "HIGH"]
        assert {(v["device"], v["user"]) for v in row.values} == {(early_id, "tech-1"), (late_id, "tech-2")}
        assert row.winner is not None and (row.winner["value"], row.winner["device"]) == ("CRITICAL", late_id)
        clocks = parse_clocks(content(watcher.doc, hub.rooms[("acme", name)].watch.record_type)[1])
        expected_key = FieldConflict(field="priority", winner=clocks.latest("priority"),
                                     loser=next(s for s in clocks.for_field("priority") if s.value == "HIGH")).key
        assert row.key == expected_key
        assert early.notices() == [] and late.notices() == [], "a conflict is not a violation"
        for replica in (watcher, early, late):
            await replica.close()


async def test_an_invalid_transition_made_offline_is_reverted_recorded_and_reported_other_fields_kept(
    tmp_path: Path, store_url: str
) -> None:
    name = "warranty_claim:WC-77"
    async with running_hub(tmp_path, url=store_url) as hub:
        base = await create(hub, name, {"status": "SUBMITTED", "claim_amount": "120.00"}, roles=("customer",))
        agent = Replica(name, user="agent-7", device="laptop-7", roles=("claims_agent",), wall_ms=at(T0), base=base)
        other = Replica(name, user="sup", device="web", roles=("claims_manager",), base=base)
        agent.write_many({"status": "COMPLETED", "claim_amount": "99.50"})
        assert len(agent.updates) == 1, "one offline update sets both fields"
        assert await other.connect(hub) == "read-write" and await agent.connect(hub) == "read-write"

        agent.send(agent.updates[0])

        assert await agent.settled() == [True], "the update is stored as sent and acknowledged"
        await converged(hub, name, other, agent)
        final = record(other.doc)
        assert final["status"] == "SUBMITTED" and final["claim_amount"] == "99.50"
        (notice,) = agent.notices()
        assert (notice.code, notice.field) == ("invalid_transition", "status")
        assert "COMPLETED" in notice.message
        (row,) = await conflicts_of(hub, name)
        assert (row.kind, row.code, row.field) == ("violation", "invalid_transition", "status")
        assert row.values[0]["value"] == "COMPLETED" and row.values[0]["device"] == "laptop-7"
        assert row.winner == {"value": "SUBMITTED", "user": "hub"}
        history = content(other.doc, hub.rooms[("acme", name)].watch.record_type)[2]["history"]
        assert [(h.get("old"), h["new"]) for h in history] == [(None, "SUBMITTED")], "no entry for a refused change"
        stored = await hub.store.load("acme", name)
        assert agent.updates[0] in stored.updates, "the client's update itself is stored as sent"
        await other.close(), await agent.close()


async def test_a_technician_cannot_set_the_fraud_flag_and_a_customer_cannot_open_the_internal_document(
    tmp_path: Path, store_url: str
) -> None:
    name = "warranty_claim:WC-77/internal"
    flag = {"suspected": True, "detector": "tech-3", "reason": "serial filed off", "confidence": 0.9}
    async with running_hub(tmp_path, url=store_url) as hub:
        tech = Replica(name, user="tech-3", device="tablet-3", roles=("technician",), wall_ms=at(T0))
        manager = Replica(name, user="mgr-1", device="desk-1", roles=("claims_manager",), wall_ms=at(T0 + 5))
        tech.write_many({"fraud_suspected": flag})
        tech.append("internal_notes", {"text": "customer was evasive"})
        assert await manager.connect(hub) == "read-write" and await tech.connect(hub) == "read-write"
        for update in tech.updates:
            tech.send(update)
        assert await tech.settled() == [True, True]
        await converged(hub, name, manager, tech)
        assert "fraud_suspected" not in record(manager.doc), "reverted on every replica"
        kind = hub.rooms[("acme", name)].watch.record_type
        assert [n["text"] for n in content(manager.doc, kind)[2]["internal_notes"]] == ["customer was evasive"]
        (notice,) = tech.notices()
        assert (notice.code, notice.field) == ("role_not_allowed", "fraud_suspected")
        (row,) = await conflicts_of(hub, name)
        assert (row.kind, row.code, row.values[0]["value"]) == ("violation", "role_not_allowed", flag)

        # the same write without any stamp (a stock Yjs client) is reverted and reported the same way
        tech.edit(lambda doc: doc.get("record", type=Map).update({"fraud_suspected": flag}))
        tech.send(tech.updates[-1])
        assert (await tech.settled())[-1] is True
        await converged(hub, name, manager, tech)
        assert "fraud_suspected" not in record(manager.doc)
        assert [n.code for n in tech.notices()] == ["role_not_allowed", "role_not_allowed"]

        # its owner may set it
        manager.write_many({"fraud_suspected": flag})
        manager.send(manager.updates[-1])
        assert await manager.settled() == [True]
        await converged(hub, name, manager, tech)
        assert record(tech.doc)["fraud_suspected"] == flag and manager.notices() == []

        for roles in (("customer",), ("viewer",), ("customer", "viewer")):
            outsider = Replica(name, user="cust-1", device="phone-1", roles=roles)
            assert await outsider.connect(hub) is None
            assert outsider.denied is not None and outsider.denied.startswith("forbidden: ")
            await outsider.close()
        customer = Replica("warranty_claim:WC-77", user="cust-1", device="phone-1", roles=("customer",))
        assert await customer.connect(hub) == "read-write", "the claim itself stays open to its customer"
        for replica in (tech, manager, customer):
            await replica.close()
