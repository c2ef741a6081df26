from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from conflict import ProjectionFields, project

WORK_ORDER = {
    "number": "WO-1042",
    "title": "Replace compressor",
    "status": "IN_PROGRESS",
    "priority": "HIGH",
    "technician": "tech-7",
    "due_at": "2024-06-01T17:00:00Z",
    "estimated_minutes": 90.0,
    "equipment": {"equipment_id": "EQ-1", "name": "Chiller"},
}


def test_a_valid_record_projects_its_indexed_fields_and_typed_body() -> None:
    projection = project(
        "work_order:WO-1042",
        WORK_ORDER,
        {"tasks": [{"id": "t1", "title": "Drain", "hlc": "0000000000001-000000-d"}], "notes": [{"text": "on site"}]},
        {"description": "Compressor is noisy"},
    )
    assert projection.valid, projection.problems
    assert (projection.type, projection.id, projection.part) == ("work_order", "WO-1042", None)
    assert (projection.status, projection.assignee) == ("IN_PROGRESS", "tech-7")
    body = projection.body
    assert body["estimated_minutes"] == 90
    assert body["due_at"] == "2024-06-01T17:00:00Z"
    assert body["description"] == "Compressor is noisy"
    assert body["tasks"][0]["status"] == "PENDING"  # schema default filled in
    assert body["equipment"]["location"] is None


def test_list_roots_are_projected_at_their_current_versions() -> None:
    tasks = [
        {"id": "t1", "title": "Drain", "status": "PENDING", "hlc": "0000000000001-000000-d"},
        {"id": "t1", "title": "Drain", "status": "DONE", "hlc": "0000000000002-000000-d"},
    ]
    projection = project("work_order:WO-1", {}, {"tasks": tasks})
    assert [t["status"] for t in projection.body["tasks"]] == ["DONE"]


def test_a_partial_draft_is_valid_with_what_it_has() -> None:
    projection = project("warranty_claim:WC-77", {"claim_number": "WC-77"})
    assert projection.valid
    assert projection.status is None and projection.assignee is None
    assert projection.body["claim_number"] == "WC-77"
    assert projection.body["notes"] == []


def test_invalid_content_is_reported_and_the_rest_is_kept() -> None:
    record = {**WORK_ORDER, "status": "DONE_ISH", "priority": 3, "estimated_minutes": -1}
    lists = {"notes": [{"text": "ok"}, "not an object", {"text": "also ok", "at": "yesterday"}]}
    projection = project("work_order:WO-1042", record, lists)
    problems = {p.path: p for p in projection.problems}
    assert set(problems) == {"status", "priority", "estimated_minutes", "notes[1]", "notes[2]"}
    assert problems["status"].value == "DONE_ISH"  # what was entered is not lost
    assert projection.status is None
    assert projection.body["status"] is None
    assert projection.body["title"] == "Replace compressor"
    assert projection.assignee == "tech-7"
    assert projection.body["notes"] == [
        {"id": None, "hlc": None, "user": None, "device": None, "text": "ok", "at": None}
    ]
    assert not projection.valid


def test_unknown_fields_are_kept_in_the_body() -> None:
    record = {"policy_number": "POL-9", "loyalty_tier": {"level": 2}}
    projection = project("policy:POL-9", record, {"attachments_v2": [1]})
    assert projection.valid
    assert projection.body["loyalty_tier"] == {"level": 2}
    assert projection.body["attachments_v2"] == [1]
    assert projection.body["policy_number"] == "POL-9"


def test_a_list_value_inside_the_record_map_is_reported() -> None:
    projection = project("work_order:WO-1", {"notes": "should be a root"}, {"notes": [{"text": "real"}]})
    assert [p.path for p in projection.problems] == ["notes"]
    assert projection.body["notes"][0]["text"] == "real"


def test_a_companion_projects_with_its_own_schema() -> None:
    record = {"fraud_suspected": {"reason": "serial reused", "confidence": 0.8}}
    projection = project("warranty_claim:WC-77/internal", record)
    assert projection.valid
    assert (projection.type, projection.part, projection.status) == ("warranty_claim", "internal", None)
    assert projection.body["fraud_suspected"]["suspected"] is True


def test_unknown_types_and_bad_names_still_project_what_they_can() -> None:
    unknown = project("invoice:INV-1", {"status": "OPEN", "total": 5})
    assert (unknown.type, unknown.id) == ("invoice", "INV-1")
    assert unknown.body == {"status": "OPEN", "total": 5}
    assert [p.path for p in unknown.problems] == [""]

    bad = project("not a name", {"a": 1})
    assert bad.type is None and bad.body == {"a": 1} and not bad.valid


def test_a_record_that_is_not_a_map_is_a_problem() -> None:
    projection = project("work_order:WO-1", ["a", "list"], {"tasks": "nope"})  # type: ignore[arg-type]
    assert {p.path for p in projection.problems} == {"", "tasks"}
    assert projection.body["tasks"] == []


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
field_names = st.sampled_from(
    ["status", "priority", "technician", "due_at", "claim_amount", "customer", "fraud_suspected", "term_years", "x"]
)


@settings(max_examples=200)
@given(
    st.sampled_from(
        ["work_order:W", "warranty_claim:C", "warranty_claim:C/internal", "policy:P", "insurance_claim:I", "x:y", "?"]
    ),
    st.dictionaries(field_names, json_values, max_size=6),
    st.dictionaries(
        st.sampled_from(["notes", "tasks", "payments", "history"]),
        st.lists(json_values, max_size=3) | json_values,
        max_size=3,
    ),
)
def test_projection_never_raises_on_user_data(name: str, record: dict[str, Any], lists: dict[str, Any]) -> None:
    projection = project(name, record, lists)
    assert isinstance(projection, ProjectionFields)
    assert projection.status is None or isinstance(projection.status, str)
    assert projection.assignee is None or isinstance(projection.assignee, str)
    assert isinstance(projection.body, dict)
