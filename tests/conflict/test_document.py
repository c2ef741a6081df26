"""Real pycrdt documents written by the ``clocks`` convention, merged in every order."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Text

from conflict import (
    RECORD_TYPES,
    DomainError,
    FieldResolution,
    FieldStamp,
    RecordType,
    Hlc,
    ViolationCode,
    append_entry,
    check_resolved_status,
    check_stamp,
    correct_field,
    lookup_record_type,
    new_stamps,
    parse_clocks,
    project_document,
    read_document,
    resolve_record,
    restore_text,
    write_field,
)
from conflict.pycrdt_compat import observe_raw, text_delta

WORK_ORDER = RECORD_TYPES["work_order"]
WARRANTY_CLAIM = RECORD_TYPES["warranty_claim"]
INTERNAL = lookup_record_type("warranty_claim/internal")


def clock_at(wall_ms: int):  # type: ignore[no-untyped-def]
    return lambda: wall_ms


def write(doc: Doc, field: str, value: Any, *, node: str, wall: int, user: str, roles: list[str]) -> None:
    """One device's write at physical time ``wall``."""
    write_field(doc, field, value, clock=Hlc(node, clock_at(wall)), user=user, roles=roles)


def replica(client_id: int, *, base: Doc | None = None) -> Doc:
    doc = Doc(client_id=client_id)
    if base is not None:
        doc.apply_update(base.get_update())
    return doc


def decisions(doc: Doc, kind: RecordType = WORK_ORDER, previous: dict | None = None) -> list[tuple[Any, ...]]:
    """What the hub would act on, in a comparable form."""
    content = read_document(doc, kind)
    return [
        (
            r.field,
            r.winner,
            r.needs_correction,
            tuple(c.key for c in r.conflicts),
            tuple(c.needs_review for c in r.conflicts),
            r.rejected,
        )
        for r in resolve_record(kind, content.record, content.clocks, previous)
    ]


def resolution_of(doc: Doc, field: str, kind: RecordType = WORK_ORDER) -> FieldResolution:
    content = read_document(doc, kind)
    (resolution,) = [r for r in resolve_record(kind, content.record, content.clocks) if r.field == field]
    return resolution


def stamps_of(doc: Doc, field: str, kind: RecordType = WORK_ORDER) -> tuple[FieldStamp, ...]:
    return parse_clocks(read_document(doc, kind).clocks).for_field(field)


def correct_all(doc: Doc, kind: RecordType = WORK_ORDER) -> None:
    content = read_document(doc, kind)
    for resolution in resolve_record(kind, content.record, content.clocks):
        correct_field(doc, resolution)


@pytest.mark.parametrize(("client_a", "client_b"), [(1, 2), (2, 1)])
@pytest.mark.parametrize(("wall_a", "wall_b"), [(2_000, 1_000), (1_000, 2_000)])
def test_concurrent_writes_reach_the_same_decision_merged_either_way(
    client_a: int, client_b: int, wall_a: int, wall_b: int
) -> None:
    origin = Doc(client_id=99)
    write(origin, "title", "Replace compressor", node="dev-0", wall=500, user="u0", roles=["supervisor"])
    a, b = replica(client_a, base=origin), replica(client_b, base=origin)
    state_a, state_b = a.get_state(), b.get_state()
    pre_a, pre_b = read_document(a, WORK_ORDER).clocks, read_document(b, WORK_ORDER).clocks

    write(a, "priority", "HIGH", node="dev-a", wall=wall_a, user="ua", roles=["technician"])
    write(b, "priority", "LOW", node="dev-b", wall=wall_b, user="ub", roles=["technician"])
    update_a, update_b = a.get_update(state_a), b.get_update(state_b)
    a.apply_update(update_b)
    b.apply_update(update_a)

    # Yjs picked a value by client id; both sides hold the same document and make the same decision.
    assert read_document(a, WORK_ORDER) == read_document(b, WORK_ORDER)
    assert decisions(a, previous=pre_a) == decisions(b, previous=pre_b) == decisions(a)
    later = "HIGH" if wall_a > wall_b else "LOW"
    priority = resolution_of(a, "priority")
    assert priority.value == later
    assert len(priority.conflicts) == 1
    assert {priority.conflicts[0].winner.value, priority.conflicts[0].loser.value} == {"HIGH", "LOW"}
    assert priority.needs_correction is (read_document(a, WORK_ORDER).record["priority"] != later)

    # One side writes the correction; once it has travelled, every replica shows the later write.
    before = b.get_state()
    correct_all(b)
    a.apply_update(b.get_update(before))
    for doc in (a, b):
        assert read_document(doc, WORK_ORDER).record["priority"] == later
        assert not any(needs for _, _, needs, *_ in decisions(doc))
    # Both values stay in the document: nothing anyone entered disappears.
    assert sorted(s.value for s in stamps_of(a, "priority")) == ["HIGH", "LOW"]


def test_an_overwrite_after_sync_is_not_a_conflict_even_with_a_slower_clock() -> None:
    a = Doc(client_id=7)
    write(a, "title", "draft", node="dev-a", wall=9_000, user="ua", roles=["technician"])
    b = replica(3, base=a)
    # dev-b's physical clock is behind, but it had seen dev-a's write: its overwrite still comes later.
    stamp = write_field(b, "title", "final", clock=Hlc("dev-b", clock_at(1_000)), user="ub", roles=["technician"])
    assert stamp.hlc.wall_ms == 9_000 and stamp.prev is not None
    a.apply_update(b.get_update(a.get_state()))
    title = resolution_of(a, "title")
    assert title.value == "final"
    assert not title.needs_correction
    assert title.conflicts == ()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 2**31),  # Yjs client id
            st.integers(1_000, 1_010),  # physical clock: close times make ties on wall time likely
            st.sampled_from(["LOW", "MEDIUM", "HIGH", "CRITICAL"]),
            st.booleans(),  # also writes the title
        ),
        min_size=2,
        max_size=4,
        unique_by=lambda w: w[0],
    ),
    st.randoms(use_true_random=False),
)
def test_devices_converge_on_the_latest_hlc_in_any_delivery_order(
    writes: list[tuple[int, int, str, bool]], rnd: Any
) -> None:
    origin = Doc(client_id=1)
    write(origin, "priority", "LOW", node="dev-0", wall=10, user="u0", roles=["supervisor"])
    devices = [replica(client_id + 1, base=origin) for client_id, *_ in writes]
    updates = []
    for index, (doc, (_, wall, value, with_title)) in enumerate(zip(devices, writes, strict=True)):
        state = doc.get_state()
        hlc = Hlc(f"dev-{index + 1}", clock_at(wall))
        write_field(doc, "priority", value, clock=hlc, user=f"u{index}", roles=["technician"])
        if with_title:
            write_field(doc, "title", f"title {index}", clock=hlc, user=f"u{index}", roles=["technician"])
        updates.append(doc.get_update(state))

    # Every device receives every update, in its own random order, some of them twice.
    for doc in devices:
        delivery = updates + rnd.sample(updates, k=rnd.randint(0, len(updates)))
        rnd.shuffle(delivery)
        for update in delivery:
            doc.apply_update(update)

    expected = decisions(devices[0])
    assert all(decisions(doc) == expected for doc in devices[1:])
    priority = resolution_of(devices[0], "priority")
    assert priority.winner == max(stamps_of(devices[0], "priority"), key=lambda s: s.hlc)

    # The hub's corrections (from any one replica) bring every replica to the policy's values.
    hub = replica(2**32 - 1, base=devices[-1])
    correct_all(hub)
    for doc in devices:
        doc.apply_update(hub.get_update(doc.get_state()))
    for doc in devices:
        record = read_document(doc, WORK_ORDER).record
        assert record["priority"] == priority.value
        assert not any(needs for _, _, needs, *_ in decisions(doc))


def test_a_technician_cannot_set_the_fraud_flag() -> None:
    hub = Doc(client_id=1)
    flag = {"suspected": True, "detector": "rules", "reason": "serial reused", "confidence": 0.9}
    write(hub, "fraud_suspected", flag, node="dev-m", wall=1_000, user="mgr", roles=["claims_manager"])
    device = replica(2, base=hub)
    before = read_document(hub, INTERNAL).clocks
    write(device, "fraud_suspected", {"suspected": False}, node="dev-t", wall=5_000, user="tech", roles=["technician"])
    hub.apply_update(device.get_update(hub.get_state()))

    content = read_document(hub, INTERNAL)
    (resolution,) = resolve_record(INTERNAL, content.record, content.clocks, before)
    assert resolution.needs_correction
    assert resolution.value == flag
    assert [s.user for s in resolution.rejected] == ["tech"]
    correct_field(hub, resolution)
    device.apply_update(hub.get_update(device.get_state()))
    assert project_document("warranty_claim:WC-77/internal", device).body["fraud_suspected"]["suspected"] is True


def test_the_hub_reverts_an_invalid_offline_transition_with_its_own_stamp() -> None:
    hub = Doc(client_id=1)
    write(hub, "status", "SUBMITTED", node="dev-c", wall=1_000, user="cust", roles=["customer"])
    device = replica(2, base=hub)
    before = read_document(hub, WARRANTY_CLAIM)
    write(device, "status", "COMPLETED", node="dev-t", wall=2_000, user="tech", roles=["technician"])
    write(device, "priority", "HIGH", node="dev-t", wall=2_000, user="tech", roles=["technician"])
    hub.apply_update(device.get_update(hub.get_state()))

    after = read_document(hub, WARRANTY_CLAIM)
    (status,) = [s for s in new_stamps(before.clocks, after.clocks) if s.field == "status"]
    assert check_stamp(WARRANTY_CLAIM, status, device="dev-t", user="tech", roles=["technician"])
    picked = resolution_of(hub, "status", WARRANTY_CLAIM)
    verdict = check_resolved_status(WARRANTY_CLAIM, before.record["status"], picked)
    assert verdict.code is ViolationCode.INVALID_TRANSITION
    # The hub's clock is behind the device's; its revert still wins because it observed the offending stamp.
    write(hub, "status", before.record["status"], node="hub-1", wall=1_500, user="hub", roles=["admin"])
    device.apply_update(hub.get_update(device.get_state()))

    for doc in (hub, device):
        projection = project_document("warranty_claim:WC-77", doc)
        assert projection.status == "SUBMITTED"
        assert projection.body["priority"] == "HIGH"  # the other fields of that update are kept
        assert not any(needs for _, _, needs, *_ in decisions(doc, WARRANTY_CLAIM))
    offending = [s for s in stamps_of(device, "status", WARRANTY_CLAIM) if s.device == "dev-t"]
    assert [s.value for s in offending] == ["COMPLETED"]  # kept as evidence


def test_concurrent_appends_are_all_kept_and_versions_order_by_time() -> None:
    base = Doc(client_id=1)
    task = {"id": "t1", "title": "Drain", "status": "PENDING"}
    append_entry(base, "tasks", task, clock=Hlc("dev-0", clock_at(5_000)), user="u0")
    a, b = replica(2, base=base), replica(3, base=base)
    state_a, state_b = a.get_state(), b.get_state()
    append_entry(a, "notes", {"text": "from a"}, clock=Hlc("dev-a", clock_at(10)), user="ua")
    done = append_entry(a, "tasks", {**task, "status": "DONE"}, clock=Hlc("dev-a", clock_at(10)), user="ua")
    append_entry(b, "notes", {"text": "from b"}, clock=Hlc("dev-b", clock_at(20)), user="ub")
    update_a, update_b = a.get_update(state_a), b.get_update(state_b)
    a.apply_update(update_b)
    b.apply_update(update_a)

    assert done["hlc"] > "0000000005000-000000-dev-0"  # a slow device still writes a newer version
    for doc in (a, b):
        projection = project_document("work_order:WO-1", doc)
        assert sorted(n["text"] for n in projection.body["notes"]) == ["from a", "from b"]
        assert [(t["id"], t["status"]) for t in projection.body["tasks"]] == [("t1", "DONE")]
        assert projection.body["notes"][0]["user"] in {"ua", "ub"}
    assert read_document(a, WORK_ORDER) == read_document(b, WORK_ORDER)


def test_values_are_stored_as_json_and_none_removes_a_field() -> None:
    doc = Doc()
    hlc = Hlc("dev-a", clock_at(1))
    write_field(doc, "due_at", datetime(2024, 6, 1, 17, tzinfo=timezone.utc), clock=hlc, user="u", roles=["supervisor"])
    write_field(doc, "estimated_minutes", 90, clock=hlc, user="u", roles=["supervisor"])
    write_field(doc, "technician", "tech-7", clock=hlc, user="u", roles=["supervisor"])
    part = {"part_number": "P-1", "unit_cost": Decimal("19.90"), "quantity": 2}
    append_entry(doc, "parts_used", part, clock=hlc, user="u")
    write_field(doc, "technician", None, clock=hlc, user="u", roles=["supervisor"])
    with pytest.raises(DomainError):
        append_entry(doc, "notes", "just text", clock=hlc, user="u")

    content = read_document(doc, WORK_ORDER)
    assert content.record == {"due_at": "2024-06-01T17:00:00Z", "estimated_minutes": 90.0}
    assert parse_clocks(content.clocks).latest("technician").value is None  # type: ignore[union-attr]
    projection = project_document("work_order:WO-1", doc)
    assert projection.valid, projection.problems
    assert projection.assignee is None
    assert projection.body["parts_used"][0]["unit_cost"] == "19.90"
    assert not any(needs for _, _, needs, *_ in decisions(doc))


def test_project_document_of_an_unknown_type_reads_the_record_map() -> None:
    doc = Doc()
    write_field(doc, "anything", 1, clock=Hlc("dev-a", clock_at(1)), user="u", roles=[])
    projection = project_document("invoice:INV-1", doc)
    assert projection.body == {"anything": 1.0}
    assert not projection.valid


# -- putting a text root back --------------------------------------------------------------------------

_CHARACTERS = st.text(alphabet=st.sampled_from("ab é✓😀\n"), max_size=10)
#: One op of an edit: (kind, where as a share of the text, what to insert or how many characters to delete).
_OPS = st.lists(st.tuples(st.sampled_from(["insert", "delete", "format"]), st.floats(0, 1), _CHARACTERS), max_size=4)


def _offset(text: str, index: int) -> int:
    return len(text[:index].encode())  # pycrdt indexes texts by UTF-8 bytes


def _edit(text: Text, ops: list[tuple[str, float, str]]) -> None:
    for kind, share, payload in ops:
        now = str(text)
        at = round(share * len(now))
        if kind == "insert":
            text.insert(_offset(now, at), payload)
        elif kind == "delete":
            del text[_offset(now, at):_offset(now, min(len(now), at + len(payload)))]
        else:
            text.format(_offset(now, at), _offset(now, min(len(now), at + len(payload))), {"bold": True})


def _merged_edit(before: str, ops: list[tuple[str, float, str]]) -> tuple[Doc, Text, list[tuple[dict[str, Any], ...]]]:
    """A hub's document holding ``before``, after merging one device's update that made ``ops``; the deltas seen."""
    hub = Doc(client_id=1)
    hub.get("description", type=Text).insert(0, before)
    device = replica(2, base=hub)
    with device.transaction():
        _edit(device.get("description", type=Text), ops)
    text = hub.get("description", type=Text)
    deltas: list[tuple[dict[str, Any], ...]] = []
    subscription = observe_raw(text, lambda event: deltas.append(text_delta(event)))
    hub.apply_update(device.get_update(hub.get_state()))
    del subscription
    return hub, text, deltas


@settings(max_examples=150, deadline=None)
@given(before=_CHARACTERS, ops=_OPS, with_delta=st.booleans())
def test_a_text_is_put_back_whatever_one_update_did_to_it(before: str, ops: list[tuple[str, float, str]],
                                                            with_delta: bool) -> None:
    hub, text, deltas = _merged_edit(before, ops)
    assert len(deltas) <= 1, "one merged update is one event"
    device = replica(3, base=hub)
    updates: list[bytes] = []
    hub.observe(lambda event: updates.append(event.update))

    restore_text(text, before, deltas[0] if deltas and with_delta else None)

    assert str(text) == before
    if with_delta:  # without one, only the characters are compared
        assert all(attributes is None for _, attributes in text.diff()), "formatting the edit applied is removed"
    for update in updates:  # the restore is an update like any other: a replica that applies it agrees
        device.apply_update(update)
    assert str(device.get("description", type=Text)) == before


def test_a_delta_that_does_not_fit_the_text_falls_back_to_replacing_the_changed_span() -> None:
    hub, text, _ = _merged_edit("Pump leaks", [("insert", 0.5, "never ")])

    restore_text(text, "Pump leaks", ({"retain": 400}, {"insert": "x"}))  # another text's edit

    assert str(text) == "Pump leaks"
