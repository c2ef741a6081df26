"""The records API, offline: the four record types, every kind of write, local queries, change callbacks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from client_sdk import ChangeOrigin, LocalReplica, RecordChange, RecordError, RecordNotFound, Records, record_name
from conflict import parse_clocks


class WallClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wall_clock() -> WallClock:
    return WallClock()


@pytest.fixture
async def offline(tmp_path: Path, wall_clock: WallClock) -> AsyncIterator[Records]:
    """The records of a device that never connected."""
    replica = await LocalReplica.open(tmp_path / "d.db", device="tablet-3", wall_clock=wall_clock)
    yield Records(replica, user="tech-17", roles=["technician"])
    await replica.close()


async def test_every_record_type_is_created_and_read_back(offline: Records) -> None:
    made = [
        await offline.create("work_order", "WO-1", {"status": "OPEN", "technician": "tech-17", "title": "Pump 3"},
                             texts={"description": "Leaking seal"}),
        await offline.create("warranty_claim", "WC-1", {"status": "SUBMITTED", "assignee": "agent-2"}),
        await offline.create("policy", "POL-1", {"status": "ACTIVE", "agent": "agent-9"}),
        await offline.create("insurance_claim", "IC-1", {"status": "REPORTED", "adjuster": "adj-4"}),
    ]
    assert [(v.type, v.id, v.assignee) for v in made] == [
        ("work_order", "WO-1", "tech-17"), ("warranty_claim", "WC-1", "agent-2"), ("policy", "POL-1", "agent-9"),
        ("insurance_claim", "IC-1", "adj-4"),
    ]
    wo = await offline.open("work_order:WO-1")
    assert wo.body["title"] == "Pump 3" and wo.body["description"] == "Leaking seal" and wo.status == "OPEN"
    with pytest.raises(RecordNotFound):
        await offline.open("work_order:WO-404")
    with pytest.raises(RecordError, match="already exists"):
        await offline.create("work_order", "WO-1", {"title": "again"})


async def test_field_writes_carry_hlc_stamps_of_the_device_and_user(offline: Records) -> None:
    await offline.create("work_order", "WO-1", {"status": "OPEN"})
    await offline.set("work_order:WO-1", status="IN_PROGRESS", actual_minutes=30)
    content = await offline.content("work_order:WO-1")
    assert content.record == {"status": "IN_PROGRESS", "actual_minutes": 30}
    stamps = parse_clocks(content.clocks)
    latest = stamps.latest("status")
    assert latest is not None and latest.device == "tablet-3" and latest.user == "tech-17"
    assert latest.value == "IN_PROGRESS" and latest.prev is not None, "an overwrite names the write it replaced"
    assert latest.roles == {"technician"}
    await offline.set("work_order:WO-1", actual_minutes=None)
    assert "actual_minutes" not in (await offline.content("work_order:WO-1")).record


async def test_lists_keep_every_append_and_the_newest_version_of_an_item(offline: Records) -> None:
    await offline.create("work_order", "WO-1", {"status": "OPEN"})
    note = await offline.append("work_order:WO-1", "notes", {"text": "customer not home"})
    assert note["user"] == "tech-17" and note["device"] == "tablet-3" and note["hlc"]
    await offline.append("work_order:WO-1", "tasks", {"id": "t1", "title": "replace seal", "status": "PENDING"})
    await offline.append("work_order:WO-1", "tasks", {"id": "t1", "title": "replace seal", "status": "DONE"})
    await offline.append("work_order:WO-1", "parts_used", {"part_number": "S-12", "quantity": 2})
    view = await offline.open("work_order:WO-1")
    assert [t["status"] for t in view.body["tasks"]] == ["DONE"], "the projection shows the current version"
    assert len((await offline.content("work_order:WO-1")).lists["tasks"]) == 2, "both versions are kept"
    assert view.body["parts_used"][0]["part_number"] == "S-12"
    with pytest.raises(RecordError, match="not a list"):
        await offline.append("work_order:WO-1", "status", {"text": "x"})
    with pytest.raises(RecordError, match="hub"):
        await offline.append("work_order:WO-1", "history", {"new": "CLOSED"})


async def test_long_text_is_spliced_not_replaced(offline: Records) -> None:
    await offline.create("work_order", "WO-1", texts={"description": "Pump leaks"})
    assert await offline.edit_text("work_order:WO-1", "description", insert=" at the seal") == "Pump leaks at the seal"
    assert await offline.edit_text("work_order:WO-1", "description", index=0, delete=4, insert="Valve") == (
        "Valve leaks at the seal")
    with pytest.raises(RecordError):
        await offline.edit_text("work_order:WO-1", "description", index=99, insert="x")
    with pytest.raises(RecordError, match="not a text"):
        await offline.edit_text("work_order:WO-1", "title", insert="x")
    with pytest.raises(RecordError, match="not a scalar"):
        await offline.set("work_order:WO-1", description="overwrite")


async def test_delete_leaves_a_tombstone_that_queries_skip(offline: Records) -> None:
    await offline.create("work_order", "WO-1", {"status": "OPEN"})
    await offline.create("work_order", "WO-2", {"status": "OPEN"})
    gone = await offline.delete("work_order:WO-1")
    assert gone.deleted and gone.body["deleted"] is True
    assert [v.id for v in await offline.query(type="work_order")] == ["WO-2"]
    assert {v.id for v in await offline.query(type="work_order", include_deleted=True)} == {"WO-1", "WO-2"}


async def test_local_queries_filter_by_type_status_assignee_and_time(offline: Records, wall_clock: WallClock) -> None:
    clock = wall_clock
    await offline.create("work_order", "WO-1", {"status": "OPEN", "technician": "tech-17"})
    await offline.create("work_order", "WO-2", {"status": "SCHEDULED", "technician": "tech-17"})
    await offline.create("work_order", "WO-3", {"status": "OPEN", "technician": "tech-99"})
    await offline.create("warranty_claim", "WC-1", {"status": "SUBMITTED", "assignee": "tech-17"})
    clock.now += 3600
    since = datetime.fromtimestamp(clock.now, timezone.utc)
    await offline.set("work_order:WO-3", status="IN_PROGRESS")

    ids = lambda views: [v.id for v in views]  # noqa: E731
    assert ids(await offline.query(type="work_order")) == ["WO-1", "WO-2", "WO-3"]
    assert ids(await offline.query(type="work_order", status="OPEN")) == ["WO-1"]
    assert ids(await offline.query(assignee="tech-17")) == ["WC-1", "WO-1", "WO-2"]
    assert ids(await offline.query(updated_since=since)) == ["WO-3"]
    assert ids(await offline.query(type="work_order", status="IN_PROGRESS", assignee="tech-99")) == ["WO-3"]
    assert ids(await offline.query(limit=2)) == ["WC-1", "WO-1"]
    with pytest.raises(ValueError):
        await offline.query(updated_since=datetime(2030, 1, 1))


async def test_change_callbacks_fire_once_per_local_change(offline: Records) -> None:
    seen: list[RecordChange] = []
    stop = offline.on_change(seen.append)
    await offline.create("work_order", "WO-1", {"status": "OPEN", "title": "a"})  # several fields, one change
    await offline.set("work_order:WO-1", status="IN_PROGRESS")
    await offline.append("work_order:WO-1", "notes", {"text": "n"})
    await offline.edit_text("work_order:WO-1", "description", insert="d")
    await offline.delete("work_order:WO-1")
    await offline.set("work_order:WO-1", {})  # no change, no callback
    assert [c.origin for c in seen] == [ChangeOrigin.LOCAL] * 5
    assert [c.record.status for c in seen] == ["OPEN", "IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS"]
    assert seen[-1].record.deleted
    stop()
    await offline.set("work_order:WO-1", status="COMPLETED")
    assert len(seen) == 5


async def test_names_types_and_fields_are_checked(offline: Records) -> None:
    assert record_name("work_order", "WO-1") == "work_order:WO-1"
    with pytest.raises(RecordError):
        record_name("work_order", "bad id with spaces")
    with pytest.raises(RecordError, match="unknown record type"):
        await offline.create("invoice", "I-1")
    with pytest.raises(RecordError):
        await offline.set("invoice:I-1", x=1)
    with pytest.raises(RecordError, match="at least one"):
        await offline.create("work_order", "WO-1")
    await offline.create("work_order", "WO-1", {"status": "OPEN"})
    for bad in ("", "a@b", "clocks", "notes"):
        with pytest.raises(RecordError):
            await offline.set("work_order:WO-1", {bad: 1})
