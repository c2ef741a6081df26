from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conflict import (
    FieldStamp,
    HlcTimestamp,
    ViolationCode,
    check_resolved_status,
    make_stamp,
    resolve_field,
    resolve_record,
)
from conflict.policies import MergeKind

device_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)


def stamp(
    field: str,
    value: Any,
    wall: int,
    device: str,
    *,
    counter: int = 0,
    prev: HlcTimestamp | None = None,
    roles: tuple[str, ...] = ("technician",),
) -> FieldStamp:
    return make_stamp(field, value, hlc=HlcTimestamp(wall, counter, device), user=f"u-{device}", roles=roles, prev=prev)


def clocks_of(*stamps: FieldStamp) -> dict[str, Any]:
    return {s.key: s.to_entry() for s in stamps}


@given(
    st.lists(
        st.tuples(
            device_ids,
            st.integers(0, 10**12),
            st.integers(0, 5),
            st.sampled_from(["LOW", "MEDIUM", "HIGH", "CRITICAL"]),
        ),
        min_size=2,
        max_size=6,
        unique_by=lambda w: w[0],
    ),
    st.randoms(use_true_random=False),
)
def test_the_later_hlc_wins_whatever_the_device_ids(writes: list[tuple[str, int, int, str]], rnd: Any) -> None:
    stamps = [stamp("priority", value, wall, device, counter=counter) for device, wall, counter, value in writes]
    expected = max(stamps, key=lambda s: s.hlc)
    shuffled = stamps[:]
    rnd.shuffle(shuffled)
    # Whatever value Yjs kept in the record map, the decision is the stamp with the greatest time.
    for current in {s.value for s in stamps}:
        resolution = resolve_field("work_order", "priority", {"priority": current}, clocks_of(*shuffled))
        assert resolution.winner == expected
        assert resolution.value == expected.value
        assert resolution.needs_correction is (current != expected.value)
        assert resolution.policy.kind is MergeKind.LAST_WRITER_WINS_HLC
        # Nobody had seen anyone (prev is None): every differing value is a conflict with the winner.
        assert {c.loser.device for c in resolution.conflicts} == {s.device for s in stamps if s.value != expected.value}


def test_a_tie_on_wall_and_counter_is_broken_by_the_node() -> None:
    a, b = stamp("title", "from a", 100, "dev-a"), stamp("title", "from b", 100, "dev-b")
    resolution = resolve_field("work_order", "title", {"title": "from a"}, clocks_of(a, b))
    assert resolution.winner == b
    assert resolution.needs_correction


def test_an_overwrite_of_a_seen_value_is_not_a_conflict() -> None:
    first = stamp("title", "draft", 100, "dev-a")
    second = stamp("title", "final", 200, "dev-b", prev=first.hlc)
    resolution = resolve_field("work_order", "title", {"title": "final"}, clocks_of(first, second))
    assert resolution.winner == second
    assert resolution.conflicts == ()
    assert not resolution.needs_correction


def test_a_write_that_missed_a_newer_one_conflicts_only_with_what_it_missed() -> None:
    base = stamp("title", "v1", 100, "dev-a")
    seen_by_all = stamp("title", "v2", 200, "dev-b", prev=base.hlc)
    concurrent = stamp("title", "v3", 300, "dev-c", prev=base.hlc)  # had seen v1, not v2
    resolution = resolve_field("work_order", "title", {"title": "v2"}, clocks_of(base, seen_by_all, concurrent))
    assert resolution.winner == concurrent
    assert [(c.winner.value, c.loser.value) for c in resolution.conflicts] == [("v3", "v2")]
    assert resolution.conflicts[0].key == f"title|{concurrent.hlc.encode()}|{seen_by_all.hlc.encode()}"


def test_concurrent_writes_of_the_same_value_do_not_conflict() -> None:
    a, b = stamp("priority", "HIGH", 100, "dev-a"), stamp("priority", "HIGH", 101, "dev-b")
    assert resolve_field("work_order", "priority", {"priority": "HIGH"}, clocks_of(a, b)).conflicts == ()


def test_object_values_compare_by_content() -> None:
    equipment = {"equipment_id": "EQ-1", "name": "Chiller"}
    a = stamp("equipment", equipment, 100, "dev-a")
    # pycrdt hands the map back as a new dict; equal content needs no correction.
    assert not resolve_field("work_order", "equipment", {"equipment": dict(equipment)}, clocks_of(a)).needs_correction


def test_status_conflicts_reaching_a_final_status_go_to_review() -> None:
    approved = stamp("status", "APPROVED", 100, "dev-a", roles=("claims_manager",))
    rejected = stamp("status", "REJECTED", 200, "dev-b", roles=("claims_manager",))
    resolution = resolve_field("warranty_claim", "status", {"status": "APPROVED"}, clocks_of(approved, rejected))
    assert resolution.value == "REJECTED"
    assert [c.needs_review for c in resolution.conflicts] == [True]

    info = stamp("status", "REQUIRES_INFO", 100, "dev-a", roles=("claims_agent",))
    approved = stamp("status", "APPROVED", 200, "dev-b", roles=("claims_manager",))
    resolution = resolve_field("warranty_claim", "status", {}, clocks_of(info, approved))
    assert [c.needs_review for c in resolution.conflicts] == [False]


def test_non_status_conflicts_never_need_review() -> None:
    a, b = stamp("assignee", "REJECTED", 1, "dev-a"), stamp("assignee", "COMPLETED", 2, "dev-b")
    resolution = resolve_field("warranty_claim", "assignee", {}, clocks_of(a, b))
    assert [c.needs_review for c in resolution.conflicts] == [False]


def test_role_owned_fields_ignore_writes_by_other_roles() -> None:
    flag = {"suspected": True, "reason": "pattern"}
    manager = stamp("fraud_suspected", flag, 100, "dev-m", roles=("claims_manager",))
    technician = stamp("fraud_suspected", {"suspected": False}, 200, "dev-t", roles=("technician",))
    resolution = resolve_field(
        "warranty_claim/internal",
        "fraud_suspected",
        {"fraud_suspected": {"suspected": False}},
        clocks_of(manager, technician),
    )
    assert resolution.policy.kind is MergeKind.ROLE_OWNED
    assert resolution.winner == manager
    assert resolution.rejected == (technician,)
    assert resolution.needs_correction
    assert resolution.conflicts == ()


def test_a_role_owned_field_no_owner_wrote_must_be_absent() -> None:
    technician = stamp("fraud_suspected", {"suspected": True}, 200, "dev-t", roles=("technician",))
    resolution = resolve_field(
        "warranty_claim/internal", "fraud_suspected", {"fraud_suspected": {"suspected": True}}, clocks_of(technician)
    )
    assert resolution.winner is None and resolution.value is None
    assert resolution.needs_correction
    unstamped = resolve_field("warranty_claim/internal", "fraud_suspected", {"fraud_suspected": {"x": 1}}, {})
    assert unstamped.needs_correction
    assert not resolve_field("warranty_claim/internal", "fraud_suspected", {}, {}).needs_correction


def test_a_field_without_stamps_keeps_its_value() -> None:
    resolution = resolve_field("work_order", "title", {"title": "legacy"}, {})
    assert resolution.winner is None
    assert not resolution.needs_correction


def test_previous_clocks_limit_reports_to_what_the_merge_brought() -> None:
    a, b = stamp("title", "A", 100, "dev-a"), stamp("title", "B", 200, "dev-b")
    t1, t2 = stamp("fraud_suspected", {"suspected": True}, 1, "dev-t", roles=("technician",)), stamp(
        "title", "C", 50, "dev-c"
    )
    before = clocks_of(a, b, t1)
    after = clocks_of(a, b, t1, t2)
    resolution = resolve_field("work_order", "title", {"title": "B"}, after, previous_clocks=before)
    # dev-c's write is new and lost to B without B having seen it: one new conflict; A vs B was known already.
    assert [(c.winner.value, c.loser.value) for c in resolution.conflicts] == [("B", "C")]
    internal = resolve_field("warranty_claim/internal", "fraud_suspected", {}, before, previous_clocks=before)
    assert internal.rejected == ()
    assert resolve_field("warranty_claim/internal", "fraud_suspected", {}, before).rejected == (t1,)


def test_resolve_record_covers_stamped_and_owned_fields_of_the_schema_only() -> None:
    clocks = clocks_of(
        stamp("priority", "HIGH", 100, "dev-a"),
        stamp("title", "Fix", 100, "dev-a"),
        stamp("field_from_a_newer_app", "x", 100, "dev-a"),
    )
    record = {"priority": "LOW", "title": "Fix", "field_from_a_newer_app": "y", "adjuster": None}
    resolutions = resolve_record("work_order", record, clocks)
    assert [r.field for r in resolutions] == ["title", "priority"]
    assert [r.field for r in resolutions if r.needs_correction] == ["priority"]

    claim = resolve_record("insurance_claim", {"adjuster": "adj-1"}, {})
    assert [(r.field, r.needs_correction) for r in claim] == [("adjuster", True)]


def test_garbage_input_does_not_raise() -> None:
    assert resolve_field("work_order", "title", None, None).winner is None  # type: ignore[arg-type]
    assert resolve_record("work_order", "nope", {"title@dev": 5}) == ()  # type: ignore[arg-type]


def test_the_picked_status_is_judged_against_the_status_held_before_the_merge() -> None:
    completed = stamp("status", "COMPLETED", 200, "dev-t", roles=("technician",))
    resolution = resolve_field("warranty_claim", "status", {"status": "COMPLETED"}, clocks_of(completed))
    verdict = check_resolved_status("warranty_claim", "SUBMITTED", resolution)
    assert verdict.code is ViolationCode.INVALID_TRANSITION

    approve = stamp("status", "APPROVED", 300, "dev-a", roles=("claims_agent",))
    resolution = resolve_field("warranty_claim", "status", {}, clocks_of(approve))
    assert check_resolved_status("warranty_claim", "IN_REVIEW", resolution).code is ViolationCode.ROLE_NOT_ALLOWED

    review = stamp("status", "IN_REVIEW", 300, "dev-a", roles=("claims_agent",))
    resolution = resolve_field("warranty_claim", "status", {}, clocks_of(review))
    assert check_resolved_status("warranty_claim", "SUBMITTED", resolution)
    assert check_resolved_status("warranty_claim", "IN_REVIEW", resolution)  # unchanged

    other = resolve_field("warranty_claim", "priority", {}, clocks_of(stamp("priority", "LOW", 1, "dev-a")))
    assert check_resolved_status("warranty_claim", "SUBMITTED", other)
