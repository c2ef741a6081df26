"""``RecordRules`` on a document, with ``RecordWatch`` and ``HubWriter`` around it as the hub uses them."""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map, Text

from conflict import Hlc, ViolationCode, current_entries, parse_clocks, record_type_for, stamp_key
from sync.access import Principal
from sync.referee.corrections import HubWriter
from conflict.outcome import NOTHING, Outcome
from conflict.rules import RecordRules
from conflict.unwritable import undo
from sync.documents.watch import RecordWatch
from tests.sync.replicas import T0, Replica, at, record


class Bench:
    """A hub's view of one record: merge an update, judge it, write the corrections."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.doc = Doc()
        self.kind = record_type_for(name)
        self.watch = RecordWatch(self.doc, self.kind)
        self.rules = RecordRules()
        self.writer = HubWriter(Hlc("hub-test"))
        self.corrections: list[bytes] = []

    def merge(
        self, replica: Replica, update: bytes | None = None, *, device: str | None = None,
        writable: frozenset[str] | None = None, keep_texts: tuple[str, ...] | None = None,
    ) -> Outcome:
        author = Principal(user=replica.user, tenant="acme", device=device or replica.device,
                           roles=frozenset(replica.roles))
        self.watch.begin(keep_texts)
        self.doc.apply_update(update if update is not None else replica.updates[-1])
        outcome = self.rules.evaluate(self.kind, self.watch.collect(), author, "update-1", writable)
        correction = self.writer.apply(self.doc, outcome)
        if correction is not None:
            self.corrections.append(correction)
            replica.doc.apply_update(correction)
        return outcome

    def state(self) -> bytes:
        return self.doc.get_update()

    def list(self, root: str) -> list[Any]:
        return self.doc.get(root, type=Array).to_py() or []

    def clocks(self) -> dict[str, Any]:
        return self.doc.get("clocks", type=Map).to_py() or {}

    def text(self, root: str = "description") -> str:
        return str(self.doc.get(root, type=Text))


def device(name: str, bench: Bench, user: str, dev: str, *roles: str, ms: int = T0) -> Replica:
    return Replica(name, user=user, device=dev, roles=roles, wall_ms=at(ms), base=bench.state())


def codes(outcome: Outcome) -> list[str]:
    return [str(v.code) for v in outcome.violations]


def test_an_accepted_status_change_gets_its_derived_fields_and_a_duplicate_changes_nothing() -> None:
    bench = Bench("work_order:WO-1")
    tech = device(bench.name, bench, "tech-1", "tab-1", "technician")
    tech.write_many({"status": "OPEN", "title": "Pump"})

    outcome = bench.merge(tech)

    assert outcome.violations == () and outcome.status_change is not None
    assert (outcome.status_change.old, outcome.status_change.new, outcome.status_change.by) == (None, "OPEN", "tech-1")
    assert "status_updated_at" in record(bench.doc)
    (entry,) = bench.list("history")
    assert (entry["new"], entry["by"], entry["user"], entry["device"]) == ("OPEN", "tech-1", "hub", "hub-test")
    assert bench.merge(tech, tech.updates[-1]) is NOTHING, "a re-sent update changes nothing, so nothing to judge"


def test_a_stamp_naming_another_device_is_put_back_and_the_field_follows_the_valid_stamps() -> None:
    bench = Bench("work_order:WO-2")
    honest = device(bench.name, bench, "tech-1", "tab-1", "technician")
    honest.write("priority", "LOW")
    bench.merge(honest)
    forger = device(bench.name, bench, "tech-2", "tab-2", "technician", ms=T0 + 50)
    # writes under tab-1's key, as tab-1: both the clocks entry and the value must go back
    forger.edit(lambda doc: (
        doc.get("record", type=Map).__setitem__("priority", "CRITICAL"),
        doc.get("clocks", type=Map).__setitem__(stamp_key("priority", "tab-1"), {
            "hlc": f"{T0 + 50:013d}-000000-tab-1", "user": "tech-1", "roles": ["technician"], "value": "CRITICAL"}),
    ))

    outcome = bench.merge(forger)

    assert codes(outcome) == ["stamp_mismatch"] and outcome.violations[0].field == "priority"
    assert record(bench.doc)["priority"] == "LOW"
    assert bench.clocks()[stamp_key("priority", "tab-1")]["value"] == "LOW"
    assert outcome.violations[0].kept == "LOW" and outcome.violations[0].rejected["value"] == "CRITICAL"


def test_a_stamp_claiming_roles_the_token_lacks_is_removed_and_its_status_change_reverted() -> None:
    bench = Bench("work_order:WO-3")
    tech = device(bench.name, bench, "tech-1", "tab-1", "technician")
    tech.write("status", "OPEN")
    bench.merge(tech)
    tech.write("status", "CANCELLED", roles=("technician", "supervisor"))  # only supervisors cancel

    outcome = bench.merge(tech)

    assert codes(outcome) == ["stamp_mismatch"]
    assert record(bench.doc)["status"] == "OPEN"
    assert bench.clocks()[stamp_key("status", "tab-1")]["value"] == "OPEN", "its previous, valid stamp is back"
    assert [h["new"] for h in bench.list("history")] == ["OPEN"]


def test_removed_and_malformed_stamps_are_put_back() -> None:
    bench = Bench("policy:POL-1")
    agent = device(bench.name, bench, "agent-1", "pc-1", "agent")
    agent.write("annual_premium", "900.00")
    bench.merge(agent)
    key = stamp_key("annual_premium", "pc-1")
    vandal = device(bench.name, bench, "cust-1", "phone-1", "customer")
    vandal.edit(lambda doc: doc.get("clocks", type=Map).pop(key))
    assert codes(bench.merge(vandal)) == ["stamp_mismatch"]
    assert parse_clocks(bench.clocks()).latest("annual_premium").value == "900.00"
    vandal.edit(lambda doc: doc.get("clocks", type=Map).__setitem__(key, {"garbage": True}))
    assert codes(bench.merge(vandal)) == ["stamp_mismatch"]
    assert parse_clocks(bench.clocks()).problems == ()


def test_a_role_owned_field_written_by_another_role_is_reverted_stamped_or_not() -> None:
    bench = Bench("policy:POL-2")
    agent = device(bench.name, bench, "agent-1", "pc-1", "agent")
    agent.write("annual_premium", "900.00")
    bench.merge(agent)
    customer = device(bench.name, bench, "cust-1", "phone-1", "customer", ms=T0 + 10)
    customer.write_many({"annual_premium": "1.00", "payment_frequency": "MONTHLY"})

    outcome = bench.merge(customer)

    assert codes(outcome) == ["role_not_allowed"]
    assert record(bench.doc)["annual_premium"] == "900.00" and record(bench.doc)["payment_frequency"] == "MONTHLY"
    customer.edit(lambda doc: doc.get("record", type=Map).__setitem__("deductible", "0"))
    assert codes(bench.merge(customer)) == ["role_not_allowed"]
    assert "deductible" not in record(bench.doc), "no owner ever wrote it"


def test_an_unstamped_overwrite_is_stamped_for_its_author_and_judged_like_a_stamped_one() -> None:
    bench = Bench("work_order:WO-4")
    tech = device(bench.name, bench, "tech-1", "tab-1", "technician")
    tech.write("title", "Pump 3")
    bench.merge(tech)
    raw = device(bench.name, bench, "tech-2", "tab-2", "technician")
    raw.edit(lambda doc: doc.get("record", type=Map).update({"title": "raw", "future_field": 1}))

    outcome = bench.merge(raw)

    assert codes(outcome) == []
    assert record(bench.doc) == {"title": "raw", "future_field": 1.0}, "unknown fields are left alone"
    stamp = parse_clocks(bench.clocks()).latest("title")
    assert stamp is not None and (stamp.user, stamp.device, stamp.roles) == ("tech-2", "tab-2", {"technician"})
    later = device(bench.name, bench, "tech-1", "tab-1", "technician", ms=T0 + 1)
    later.write("title", "Pump 3 again")
    assert codes(bench.merge(later)) == [] and record(bench.doc)["title"] == "Pump 3 again"


def test_a_late_write_that_loses_is_a_conflict_even_when_the_winner_had_seen_newer() -> None:
    bench = Bench("work_order:WO-5")
    a = device(bench.name, bench, "tech-a", "tab-a", "technician", ms=T0 + 100)
    late = device(bench.name, bench, "tech-l", "tab-l", "technician", ms=T0 + 10)  # offline, older clock
    a.write("title", "A")
    bench.merge(a)
    b = device(bench.name, bench, "tech-b", "tab-b", "technician", ms=T0 + 200)  # saw A, overwrites it
    b.write("title", "B")
    assert bench.merge(b).conflicts == ()
    late.write("title", "L")

    outcome = bench.merge(late)

    assert [(c.winner.value, c.loser.value) for c in outcome.conflicts] == [("B", "L")]
    assert record(bench.doc)["title"] == "B" and outcome.violations == ()


def test_append_only_lists_get_removed_entries_back() -> None:
    bench = Bench("work_order:WO-6")
    tech = device(bench.name, bench, "tech-1", "tab-1", "technician")
    tech.append("notes", {"text": "first"})
    tech.append("notes", {"text": "second"})
    bench.merge(tech, tech.doc.get_update())
    eraser = device(bench.name, bench, "tech-2", "tab-2", "technician")
    eraser.edit(lambda doc: doc.get("notes", type=Array).pop(0))

    outcome = bench.merge(eraser)

    assert codes(outcome) == ["entry_removed"]
    assert sorted(n["text"] for n in bench.list("notes")) == ["first", "second"]


def test_a_payment_status_changed_by_a_non_owner_gets_a_corrected_version() -> None:
    bench = Bench("warranty_claim:WC-1")
    agent = device(bench.name, bench, "agent-1", "pc-1", "claims_agent")
    agent.append("payments", {"id": "p1", "amount": "50.00", "currency": "EUR"})
    bench.merge(agent)
    agent.append("payments", {"id": "p1", "amount": "50.00", "currency": "EUR", "status": "PAID"})

    outcome = bench.merge(agent)

    assert codes(outcome) == ["role_not_allowed"] and outcome.violations[0].field == "payments"
    (payment,) = current_entries(bench.list("payments"))
    assert payment.get("status", "PENDING") == "PENDING" and payment["user"] == "hub"
    manager = device(bench.name, bench, "mgr-1", "desk-1", "claims_manager", ms=T0 + 1_000)
    manager.append("payments", {"id": "p1", "amount": "50.00", "currency": "EUR", "status": "PAID"})
    assert bench.merge(manager).violations == ()
    assert current_entries(bench.list("payments"))[0]["status"] == "PAID"


def test_a_status_set_at_creation_must_be_an_initial_one() -> None:
    bench = Bench("insurance_claim:IC-1")
    adjuster = device(bench.name, bench, "adj-1", "tab-1", "adjuster")
    adjuster.write_many({"status": "INVESTIGATING", "claim_number": "IC-1"})

    outcome = bench.merge(adjuster)

    assert codes(outcome) == ["invalid_transition"]
    assert "status" not in record(bench.doc) and record(bench.doc)["claim_number"] == "IC-1"
    assert bench.list("history") == []


#: The default access rules' write lists on a customer's own warranty claim and an assigned technician's.
CUSTOMER_WRITES = frozenset({"status", "notes", "documents"})
TECHNICIAN_WRITES = frozenset({"description", "notes", "documents"})


def typed(replica: Replica, at: int, insert: str, delete: int = 0, root: str = "description") -> bytes:
    """One edit of a text root on ``replica``: ``delete`` characters at ``at``, then ``insert`` there."""

    def change(doc: Doc) -> None:
        text = doc.get(root, type=Text)
        if delete:
            del text[at:at + delete]
        text.insert(at, insert)

    return replica.edit(change)


def text_of(replica: Replica, root: str = "description") -> str:
    return str(replica.doc.get(root, type=Text))


def claim_bench(description: str) -> Bench:
    bench = Bench("warranty_claim:WC-9")
    office = device(bench.name, bench, "mgr-1", "desk", "claims_manager")
    office.write_many({"status": "SUBMITTED", "customer": {"customer_id": "cust-1"}, "claim_amount": "100"})
    typed(office, 0, description)
    bench.merge(office, office.doc.get_update())
    return bench


def test_a_text_edit_outside_the_grant_is_undone_for_every_replica_and_reported() -> None:
    bench = claim_bench("Pump leaks")
    customer = device(bench.name, bench, "cust-1", "phone", "customer")
    other = device(bench.name, bench, "mgr-1", "desk", "claims_manager")
    typed(customer, 5, "never ")  # "Pump never leaks"

    outcome = bench.merge(customer, writable=CUSTOMER_WRITES)

    (violation,) = outcome.violations
    assert (violation.code, violation.field, violation.kept) == ("field_not_writable", "description", "Pump leaks")
    assert violation.rejected == {"value": "Pump never leaks", "device": "phone", "user": "cust-1"}
    assert violation.message == "this token may not change warranty_claim.description of this record"
    assert bench.text() == "Pump leaks" and text_of(customer) == "Pump leaks"
    for update in (bench.corrections[-1], customer.updates[-1]):  # the correction arrives first, or second: the same text
        other.doc.apply_update(update)
    assert text_of(other) == "Pump leaks"


def test_a_text_edit_the_grant_allows_stands_and_a_refused_one_leaves_it_standing() -> None:
    bench = claim_bench("Pump leaks")
    tech = device(bench.name, bench, "tech-1", "tab", "technician")
    customer = device(bench.name, bench, "cust-1", "phone", "customer")
    typed(tech, 10, " at the seal")
    typed(customer, 0, "URGENT: ")  # made concurrently, before the customer saw the technician's edit

    assert bench.merge(tech, writable=TECHNICIAN_WRITES) == NOTHING
    outcome = bench.merge(customer, writable=CUSTOMER_WRITES)

    assert codes(outcome) == ["field_not_writable"] and outcome.violations[0].kept == "Pump leaks at the seal"
    assert bench.text() == "Pump leaks at the seal"
    tech.doc.apply_update(customer.updates[-1])
    tech.doc.apply_update(bench.corrections[-1])
    customer.doc.apply_update(tech.updates[-1])
    assert text_of(tech) == text_of(customer) == bench.text(), "every replica converges on the hub's text"


def test_only_the_text_is_undone_when_one_update_also_changes_what_the_grant_allows() -> None:
    bench = claim_bench("Pump leaks")
    customer = device(bench.name, bench, "cust-1", "phone", "customer")

    def change(doc: Doc) -> None:
        doc.get("description", type=Text).insert(0, "Old ")
        doc.get("notes", type=Array).append({"text": "photos attached", "user": "cust-1", "device": "phone"})

    customer.edit(change)

    outcome = bench.merge(customer, writable=CUSTOMER_WRITES)

    assert [(v.code, v.field) for v in outcome.violations] == [("field_not_writable", "description")]
    assert bench.text() == "Pump leaks"
    assert [n["text"] for n in bench.list("notes")] == ["photos attached"]


def test_undoing_an_edit_takes_out_the_very_characters_it_typed_and_restores_what_it_deleted() -> None:
    bench = claim_bench("aaaa ✓ 😀 end")
    customer = device(bench.name, bench, "cust-1", "phone", "customer")
    writer = device(bench.name, bench, "mgr-1", "desk", "claims_manager")

    def change(doc: Doc) -> None:
        text = doc.get("description", type=Text)
        text.insert(2, "a")  # "aaaaa ✓ 😀 end": the same letter as its neighbours
        del text[len("aaaaa ✓ ".encode()):len("aaaaa ✓ 😀 ".encode())]  # pycrdt counts UTF-8 bytes

    customer.edit(change)
    typed(writer, 3, "b")  # concurrently, between the original third and fourth "a"

    bench.merge(customer, writable=CUSTOMER_WRITES)
    bench.merge(writer)

    assert bench.text() == "aaaba ✓ 😀 end", "the inserted letter went, the original ones and the emoji stand"


def test_a_text_changed_while_no_update_is_watched_is_not_taken_for_the_next_updates_edit() -> None:
    bench = claim_bench("Pump leaks")
    elsewhere = device(bench.name, bench, "mgr-1", "desk", "claims_manager")
    bench.doc.apply_update(typed(elsewhere, 10, " badly"))  # another hub node's update: merged unwatched
    customer = device(bench.name, bench, "cust-1", "phone", "customer")
    typed(customer, 0, "My ")

    outcome = bench.merge(customer, writable=CUSTOMER_WRITES)

    assert outcome.violations[0].kept == "Pump leaks badly" and bench.text() == "Pump leaks badly"


def test_undoing_a_whole_update_puts_its_texts_back_too() -> None:
    bench = Bench("warranty_claim:WC-10")
    forger = device(bench.name, bench, "cust-2", "phone", "customer")
    forger.write_many({"status": "SUBMITTED", "customer": {"customer_id": "cust-1"}})
    typed(forger, 0, "not mine")
    author = Principal(user="cust-2", tenant="acme", device="phone", roles=frozenset({"customer"}))
    bench.watch.begin()
    bench.doc.apply_update(forger.doc.get_update())

    outcome = undo(bench.kind, bench.watch.collect(), author, "update-1", ViolationCode.OUT_OF_REACH)
    bench.writer.apply(bench.doc, outcome)

    assert ("out_of_reach", "description") in [(str(v.code), v.field) for v in outcome.violations]
    assert bench.text() == "" and record(bench.doc) == {}


def test_a_text_the_author_may_write_is_not_copied_and_the_next_refused_edit_still_gets_its_content() -> None:
    bench = claim_bench("Pump leaks")
    tech = device(bench.name, bench, "tech-1", "tab", "technician")
    typed(tech, 10, " badly")
    bench.watch.begin(keep_texts=())  # as the write path does for a grant that lists the description
    bench.doc.apply_update(tech.updates[-1])
    change = bench.watch.collect()
    assert (change.texts["description"].before, change.texts["description"].after) == (None, None)
    assert change.texts["description"].delta == ({"retain": 10}, {"insert": " badly"})
    author = Principal(user="tech-1", tenant="acme", device="tab", roles=frozenset({"technician"}))
    assert undo(bench.kind, change, author, "update-1").texts == (), "no copy to put back: it stands"
    customer = device(bench.name, bench, "cust-1", "phone", "customer")
    typed(customer, 0, "My ")

    outcome = bench.merge(customer, writable=CUSTOMER_WRITES, keep_texts=("description",))

    assert outcome.violations[0].kept == "Pump leaks badly" and bench.text() == "Pump leaks badly"
