from __future__ import annotations

from pathlib import Path

import pytest

from conflict import (
    LIFECYCLES,
    RECORD_TYPES,
    Role,
    UnknownRecordType,
    ViolationCode,
    allowed_targets,
    check_transition,
    final_statuses,
    initial_statuses,
    render_lifecycle_table,
)
from conflict.lifecycle import Transition

LIFECYCLES_MD = Path(__file__).resolve().parents[2] / "conflict" / "LIFECYCLES.md"

ALL_TRANSITIONS = [(lc.record_type, t) for lc in LIFECYCLES.values() for t in lc.transitions]


def _id(param: object) -> str:
    if isinstance(param, Transition):
        return f"{param.source}->{param.target}"
    return str(param)


@pytest.mark.parametrize(("record_type", "transition"), ALL_TRANSITIONS, ids=_id)
def test_every_transition_is_allowed_to_exactly_its_roles(record_type: str, transition: Transition) -> None:
    for role in Role:
        verdict = check_transition(record_type, transition.source, transition.target, [role])
        if role in transition.roles:
            assert verdict.allowed, (role, verdict)
            assert verdict.code is None
        else:
            assert not verdict.allowed, role
            assert verdict.code is ViolationCode.ROLE_NOT_ALLOWED
            assert transition.target in verdict.reason


@pytest.mark.parametrize("record_type", list(LIFECYCLES))
def test_every_missing_transition_is_invalid_even_for_admins(record_type: str) -> None:
    lifecycle = LIFECYCLES[record_type]
    for source in (None, *lifecycle.statuses):
        for target in lifecycle.statuses:
            if source == target or lifecycle.find(source, target) is not None:
                continue
            verdict = check_transition(record_type, source, target, list(Role))
            assert verdict.code is ViolationCode.INVALID_TRANSITION, (source, target)
            assert not verdict


def test_the_warranty_claim_transitions_the_issue_requires() -> None:
    required = [
        ("SUBMITTED", "IN_REVIEW"),
        ("IN_REVIEW", "APPROVED"),
        ("IN_REVIEW", "REJECTED"),
        ("IN_REVIEW", "REQUIRES_INFO"),
        ("REQUIRES_INFO", "IN_REVIEW"),
        ("APPROVED", "PROCESSING"),
        ("PROCESSING", "COMPLETED"),
        ("PROCESSING", "REJECTED"),
    ]
    for source, target in required:
        assert check_transition("warranty_claim", source, target, ["admin"]), (source, target)
    lifecycle = LIFECYCLES["warranty_claim"]
    for status in lifecycle.statuses:
        if status not in lifecycle.final:
            assert lifecycle.find(status, "CANCELLED") is not None, status


@pytest.mark.parametrize(
    ("record_type", "source", "target", "roles", "code"),
    [
        ("warranty_claim", "SUBMITTED", "COMPLETED", ["admin"], ViolationCode.INVALID_TRANSITION),
        ("warranty_claim", "IN_REVIEW", "APPROVED", ["claims_agent"], ViolationCode.ROLE_NOT_ALLOWED),
        ("warranty_claim", "IN_REVIEW", "APPROVED", ["claims_manager"], None),
        ("warranty_claim", "REQUIRES_INFO", "IN_REVIEW", ["customer"], None),
        ("warranty_claim", "APPROVED", "CANCELLED", ["customer"], ViolationCode.ROLE_NOT_ALLOWED),
        ("warranty_claim", "REJECTED", "IN_REVIEW", ["admin"], ViolationCode.INVALID_TRANSITION),
        ("work_order", "OPEN", "SCHEDULED", ["technician"], ViolationCode.ROLE_NOT_ALLOWED),
        ("work_order", "IN_PROGRESS", "PENDING_APPROVAL", ["technician"], None),
        ("work_order", "PENDING_APPROVAL", "COMPLETED", ["technician"], ViolationCode.ROLE_NOT_ALLOWED),
        ("work_order", "OPEN", "CLOSED", ["supervisor"], ViolationCode.INVALID_TRANSITION),
        ("work_order", "CLOSED", "OPEN", ["admin"], ViolationCode.INVALID_TRANSITION),
        ("policy", "DRAFT", "ACTIVE", ["agent"], None),
        ("policy", "DRAFT", "ACTIVE", ["customer"], ViolationCode.ROLE_NOT_ALLOWED),
        ("policy", "EXPIRED", "ACTIVE", ["admin"], ViolationCode.INVALID_TRANSITION),
        ("insurance_claim", "INVESTIGATING", "DENIED", ["adjuster"], ViolationCode.ROLE_NOT_ALLOWED),
        ("insurance_claim", "INVESTIGATING", "APPROVED", ["adjuster"], None),
        ("insurance_claim", "REPORTED", "SETTLED", ["admin"], ViolationCode.INVALID_TRANSITION),
        ("insurance_claim", "CLOSED", "REPORTED", ["admin"], ViolationCode.INVALID_TRANSITION),
    ],
)
def test_sample_decisions(
    record_type: str, source: str, target: str, roles: list[str], code: ViolationCode | None
) -> None:
    verdict = check_transition(record_type, source, target, roles)
    assert verdict.code is code
    assert verdict.allowed is (code is None)


def test_a_viewer_may_change_nothing() -> None:
    for record_type, transition in ALL_TRANSITIONS:
        assert not check_transition(record_type, transition.source, transition.target, ["viewer"])


def test_creation_is_a_transition_from_none() -> None:
    assert check_transition("warranty_claim", None, "SUBMITTED", ["customer"])
    assert check_transition("warranty_claim", None, "APPROVED", ["admin"]).code is ViolationCode.INVALID_TRANSITION
    assert check_transition("work_order", None, "OPEN", ["customer"]).code is ViolationCode.ROLE_NOT_ALLOWED


def test_keeping_the_status_is_always_allowed_and_clearing_it_never() -> None:
    assert check_transition("work_order", "CLOSED", "CLOSED", [])
    assert check_transition("work_order", None, None, [])
    assert check_transition("work_order", "OPEN", None, ["admin"]).code is ViolationCode.INVALID_TRANSITION


def test_unknown_statuses_and_roles_grant_nothing() -> None:
    assert check_transition("work_order", "OPEN", "ARCHIVED", ["admin"]).code is ViolationCode.INVALID_TRANSITION
    assert check_transition("work_order", "LEGACY", "OPEN", ["admin"]).code is ViolationCode.INVALID_TRANSITION
    verdict = check_transition("work_order", "OPEN", "SCHEDULED", ["superuser", "root"])
    assert verdict.code is ViolationCode.ROLE_NOT_ALLOWED


def test_unknown_record_types_raise() -> None:
    with pytest.raises(UnknownRecordType):
        check_transition("invoice", "A", "B", ["admin"])
    with pytest.raises(UnknownRecordType):
        initial_statuses("warranty_claim/internal")


@pytest.mark.parametrize("record_type", list(LIFECYCLES))
def test_machines_are_well_formed(record_type: str) -> None:
    lifecycle = LIFECYCLES[record_type]
    statuses = set(lifecycle.statuses)
    # The statuses are exactly the schema's, and every transition stays inside them.
    schema_status = RECORD_TYPES[record_type].status_field
    assert schema_status == "status"
    assert initial_statuses(record_type) and initial_statuses(record_type) <= statuses
    assert final_statuses(record_type) <= statuses
    assert lifecycle.open <= statuses - lifecycle.final
    for t in lifecycle.transitions:
        assert t.target in statuses and (t.source is None or t.source in statuses)
        assert Role.ADMIN in t.roles
        assert t.source not in lifecycle.final, "a final status has no way out"
    # Every status is reachable from creation, and every one can reach a final status.
    reachable, frontier = set(), [None]
    while frontier:
        current = frontier.pop()
        for t in lifecycle.transitions:
            if t.source == current and t.target not in reachable:
                reachable.add(t.target)
                frontier.append(t.target)
    assert reachable == statuses
    for status in statuses - lifecycle.final:
        seen, frontier = {status}, [status]
        while frontier:
            current = frontier.pop()
            for t in lifecycle.transitions:
                if t.source == current and t.target not in seen:
                    seen.add(t.target)
                    frontier.append(t.target)
        assert seen & lifecycle.final, status


def test_insurance_claims_end_in_closed() -> None:
    assert final_statuses("insurance_claim") == {"CLOSED"}


def test_allowed_targets_lists_the_moves_a_role_may_make() -> None:
    assert allowed_targets("warranty_claim", "IN_REVIEW", ["claims_agent"]) == ("REQUIRES_INFO",)
    assert allowed_targets("warranty_claim", "IN_REVIEW", ["claims_manager"]) == (
        "APPROVED",
        "REJECTED",
        "REQUIRES_INFO",
        "CANCELLED",
    )
    assert allowed_targets("work_order", None, ["technician"]) == ("OPEN",)
    assert allowed_targets("work_order", "CLOSED", ["admin"]) == ()


def test_the_committed_table_is_the_rendered_one() -> None:
    rendered = render_lifecycle_table()
    assert LIFECYCLES_MD.read_text(encoding="utf-8") == rendered, (
        "conflict/LIFECYCLES.md is stale; regenerate it with: python -c "
        "\"from conflict import render_lifecycle_table; print(render_lifecycle_table(), end='')\" "
        "> conflict/LIFECYCLES.md"
    )


def test_the_table_has_a_row_per_transition() -> None:
    rendered = render_lifecycle_table()
    rows = [
        line for line in rendered.splitlines() if line.startswith("| ") and not line.startswith(("| From", "| ---"))
    ]
    assert len(rows) == len(ALL_TRANSITIONS)
    assert "| `IN_REVIEW` | `APPROVED` | claims_manager, admin |" in rendered
    assert "| *(new)* | `SUBMITTED` |" in rendered
    for record_type in LIFECYCLES:
        assert f"## {record_type}" in rendered
