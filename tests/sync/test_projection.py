from __future__ import annotations

from datetime import datetime, timezone

from pycrdt import Array, Doc, Map, Text

from conflict import Hlc, append_entry, write_field
from sync.documents.projection import project

NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)


def test_projection_columns_and_body_come_from_the_record_schema() -> None:
    doc = Doc()
    doc.get("record", type=Map).update(
        {"status": "OPEN", "technician": "tech-17", "future_field": 1, "due_at": "2026-11-01T08:00:00+00:00"}
    )
    clock = Hlc("tablet-3", clock=lambda: 1_700_000_000_000)
    append_entry(doc, "notes", {"text": "n1"}, clock=clock, user="tech-17")
    append_entry(doc, "tasks", {"id": "t1", "title": "seal", "status": "PENDING"}, clock=clock, user="tech-17")
    append_entry(doc, "tasks", {"id": "t1", "title": "seal", "status": "DONE"}, clock=clock, user="tech-17")
    doc.get("description", type=Text).insert(0, "leaking")
    doc.get("not_a_root", type=Array).append("ignored")

    row = project("acme", "work_order:WO-1", doc, now=NOW)

    assert row is not None
    assert (row.type, row.status, row.assignee, row.updated_at) == ("work_order", "OPEN", "tech-17", NOW)
    assert row.body["record"] == doc.get("record", type=Map).to_py(), "the merged map as it is, unknown fields too"
    assert [n["text"] for n in row.body["notes"]] == ["n1"]
    assert [(t["id"], t["status"]) for t in row.body["tasks"]] == [("t1", "DONE")], "folded to current entries"
    assert row.body["description"] == "leaking"
    assert row.body["overdue"] is True, "open and past due at NOW"
    assert "not_a_root" not in row.body and "problems" not in row.body


def test_the_assignee_is_the_record_types_own_field_and_invalid_values_are_problems_not_columns() -> None:
    doc = Doc()
    write_field(doc, "status", "HACKED", clock=Hlc("d1"), user="u1", roles=["customer"])
    doc.get("record", type=Map).update({"technician": "tech-1", "assignee": "agent-9"})

    claim = project("acme", "warranty_claim:WC-1", doc, now=NOW)

    assert claim is not None
    assert (claim.status, claim.assignee) == (None, "agent-9")
    assert claim.body["record"]["status"] == "HACKED"
    assert [p["path"] for p in claim.body["problems"]] == ["status"]
    assert claim.body["overdue"] is False


def test_companion_documents_have_no_projection() -> None:
    assert project("acme", "warranty_claim:WC-1/internal", Doc()) is None


def test_a_text_longer_than_the_limit_is_measured_not_copied_into_the_body() -> None:
    doc = Doc()
    doc.get("record", type=Map).update({"status": "OPEN", "technician": "tech-17"})
    doc.get("description", type=Text).insert(0, "x" * 5000)

    row = project("acme", "work_order:WO-1", doc, now=NOW, text_limit=1000)
    assert row is not None and "description" not in row.body
    assert row.body["long_texts"] == {"description": 5000}
    assert row.status == "OPEN", "the rest of the projection is as usual"

    short = project("acme", "work_order:WO-1", doc, now=NOW, text_limit=5000)
    assert short is not None and short.body["description"] == "x" * 5000 and "long_texts" not in short.body
