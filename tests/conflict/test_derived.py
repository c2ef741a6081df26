from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from conflict import HlcTimestamp, derived_fields, is_overdue, project, status_change_entry

NOW = datetime(2024, 6, 2, 12, tzinfo=timezone.utc)
PAST = "2024-06-01T17:00:00Z"
FUTURE = "2024-06-03T17:00:00Z"


@pytest.mark.parametrize(
    ("status", "due", "overdue"),
    [
        ("OPEN", PAST, True),
        ("IN_PROGRESS", PAST, True),
        ("PENDING_APPROVAL", PAST, True),
        ("IN_PROGRESS", FUTURE, False),
        ("COMPLETED", PAST, False),
        ("CLOSED", PAST, False),
        ("CANCELLED", PAST, False),
        (None, PAST, False),
        ("OPEN", None, False),
        ("OPEN", "not a time", False),
    ],
)
def test_overdue_means_open_and_past_due(status: str | None, due: str | None, overdue: bool) -> None:
    assert is_overdue("work_order", status, due, NOW) is overdue


def test_overdue_accepts_datetimes_and_knows_only_lifecycles() -> None:
    assert is_overdue("work_order", "OPEN", NOW - timedelta(seconds=1), NOW)
    assert not is_overdue("work_order", "OPEN", NOW, NOW)
    assert not is_overdue("invoice", "OPEN", PAST, NOW)


def test_derived_fields_of_a_projection() -> None:
    late = project("work_order:WO-1", {"status": "SCHEDULED", "due_at": PAST})
    assert derived_fields(late, NOW).overdue
    assert not derived_fields(project("work_order:WO-2", {"status": "SCHEDULED", "due_at": FUTURE}), NOW).overdue
    assert not derived_fields(project("warranty_claim:WC-1", {"status": "SUBMITTED"}), NOW).overdue
    assert not derived_fields(project("warranty_claim:WC-1/internal", {}), NOW).overdue
    assert not derived_fields(project("bad name", {}), NOW).overdue


def test_now_must_carry_a_time_zone() -> None:
    with pytest.raises(ValueError):
        is_overdue("work_order", "OPEN", PAST, datetime(2024, 6, 2))


def test_a_status_change_becomes_a_history_entry() -> None:
    entry = status_change_entry("SUBMITTED", "IN_REVIEW", by="agent-1", at=NOW, hlc=HlcTimestamp(5, 0, "hub-1"))
    assert entry == {
        "old": "SUBMITTED",
        "new": "IN_REVIEW",
        "by": "agent-1",
        "at": "2024-06-02T12:00:00+00:00",
        "hlc": "0000000000005-000000-hub-1",
        "device": "hub-1",
    }
    projection = project("warranty_claim:WC-1", {}, {"history": [entry]})
    assert projection.valid
    assert projection.body["history"][0]["new"] == "IN_REVIEW"
