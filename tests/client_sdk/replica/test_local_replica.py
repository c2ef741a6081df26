"""The local replica: one transaction per change, a file that survives anything, documents loaded lazily."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pycrdt import Array, Doc, Map

from client_sdk import ChangeOrigin, LocalReplica, RecordChange, RecordError, RecordNotFound, Records, ReplicaError
from client_sdk.replica import projections
from conflict import parse_clocks
from sync.protocol import decode_state_vector

REPO = Path(__file__).resolve().parents[3]


def record_of(doc: Doc) -> dict:
    return doc.get("record", type=Map).to_py() or {}


async def test_an_edit_commits_state_outbox_and_projection_together(tmp_path: Path) -> None:
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1")
    records = Records(replica, user="u", roles=["technician"])
    await records.create("work_order", "WO-1", {"status": "OPEN", "technician": "tech-17"})
    await replica.close()

    reopened = await LocalReplica.open(tmp_path / "d.db", device="d1")
    assert record_of(await reopened.read("work_order:WO-1", lambda doc: doc)) == {"status": "OPEN", "technician": "tech-17"}
    (entry,) = await reopened.pending()
    doc = Doc()
    doc.apply_update(entry.update)
    assert record_of(doc) == {"status": "OPEN", "technician": "tech-17"}
    view = await reopened.get("work_order:WO-1")
    assert view is not None and (view.type, view.id, view.status, view.assignee) == ("work_order", "WO-1", "OPEN", "tech-17")
    assert reopened.followed() == ["work_order:WO-1"], "a record created here is followed"
    await reopened.close()


async def test_a_failed_commit_leaves_no_trace_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1", coalesce_ms=0)
    records = Records(replica, user="u", roles=["technician"])
    await records.create("work_order", "WO-1", {"status": "OPEN"})
    changes: list[RecordChange] = []
    replica.on_change.add(changes.append)

    async def broken_save(*args: object) -> None:
        raise ReplicaError("disk full")

    monkeypatch.setattr(projections, "save", broken_save)
    with pytest.raises(ReplicaError):
        await records.set("work_order:WO-1", status="IN_PROGRESS")
    monkeypatch.undo()

    assert changes == []
    assert len(await replica.pending()) == 1, "no outbox entry for the failed edit"
    assert record_of(await replica.read("work_order:WO-1", lambda doc: doc)) == {"status": "OPEN"}, "memory reloaded"
    assert (await records.open("work_order:WO-1")).status == "OPEN"
    await records.set("work_order:WO-1", status="IN_PROGRESS")
    assert (await records.open("work_order:WO-1")).status == "IN_PROGRESS"
    await replica.close()


async def test_an_exception_inside_an_edit_discards_what_it_did(tmp_path: Path) -> None:
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1")
    await Records(replica, user="u", roles=["technician"]).create("work_order", "WO-1", {"a": 1})

    def half_edit(doc: Doc) -> None:
        doc.get("record", type=Map)["a"] = 2
        raise ValueError("app bug")

    with pytest.raises(ValueError):
        await replica.edit("work_order:WO-1", half_edit)
    assert record_of(await replica.read("work_order:WO-1", lambda doc: doc)) == {"a": 1}
    assert len(await replica.pending()) == 1
    await replica.close()


async def test_a_failing_change_callback_breaks_nothing(tmp_path: Path) -> None:
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1")
    seen: list[RecordChange] = []
    replica.on_change.add(lambda change: 1 / 0)
    replica.on_change.add(seen.append)
    await Records(replica, user="u", roles=["technician"]).create("work_order", "WO-1", {"a": 1})
    assert len(seen) == 1 and len(await replica.pending()) == 1
    await replica.close()


async def test_unknown_documents_are_not_created_by_accident(tmp_path: Path) -> None:
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1")
    with pytest.raises(RecordNotFound):
        await replica.edit("work_order:NOPE", lambda doc: None)
    assert not await replica.exists("work_order:NOPE")
    await replica.close()


async def test_remote_updates_are_stored_without_outbox_entries(tmp_path: Path) -> None:
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1")
    changes: list[RecordChange] = []
    replica.on_change.add(changes.append)
    other = Doc()
    other.get("record", type=Map)["status"] = "SCHEDULED"
    other.get("notes", type=Array).append({"text": "from the office"})

    view = await replica.apply_remote("work_order:WO-9", other.get_update())
    assert view is not None and view.status == "SCHEDULED"
    assert await replica.apply_remote("work_order:WO-9", other.get_update()) is None, "a repeat changes nothing"
    assert [(c.name, c.origin) for c in changes] == [("work_order:WO-9", ChangeOrigin.REMOTE)]
    assert await replica.pending() == []
    await replica.close()

    reopened = await LocalReplica.open(tmp_path / "d.db", device="d1")
    vector = (await reopened.state_vectors(["work_order:WO-9"]))["work_order:WO-9"]
    assert decode_state_vector(vector) == decode_state_vector(other.get_state())
    assert [n["text"] for n in (await reopened.get("work_order:WO-9")).body["notes"]] == ["from the office"]
    with pytest.raises(ReplicaError):
        await reopened.apply_remote("work_order:WO-9", b"\xff\xff\xff")
    await reopened.close()


async def test_a_file_belongs_to_one_device(tmp_path: Path) -> None:
    await (await LocalReplica.open(tmp_path / "d.db", device="d1")).close()
    with pytest.raises(ReplicaError, match="d1"):
        await LocalReplica.open(tmp_path / "d.db", device="d2")


async def test_the_clock_resumes_after_a_restart(tmp_path: Path) -> None:
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1")
    records = Records(replica, user="u", roles=["technician"])
    await records.create("work_order", "WO-1", {"status": "OPEN"})
    first = replica.hlc.last
    await replica.close()

    stuck = lambda: 1_700_000_000.0  # noqa: E731 - a wall clock set back in the past after a reboot
    reopened = await LocalReplica.open(tmp_path / "d.db", device="d1", wall_clock=stuck)
    assert reopened.hlc.last == first
    records = Records(reopened, user="u", roles=["technician"])
    await records.set("work_order:WO-1", status="IN_PROGRESS")
    latest = parse_clocks((await records.content("work_order:WO-1")).clocks).latest("status")
    assert latest is not None and first is not None
    assert latest.hlc > first, "the persisted time still wins over a clock that went backwards"
    await reopened.close()


async def test_documents_are_loaded_lazily(tmp_path: Path) -> None:
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1")
    records = Records(replica, user="u", roles=["technician"])
    for i in range(5):
        await records.create("work_order", f"WO-{i}", {"n": i})
    await replica.close()
    reopened = await LocalReplica.open(tmp_path / "d.db", device="d1")
    assert reopened.loaded == []
    assert len(await reopened.query(type="work_order")) == 5
    await reopened.state_vectors([f"work_order:WO-{i}" for i in range(5)])
    assert reopened.loaded == [], "queries and state vectors come from columns, not documents"
    await reopened.read("work_order:WO-3", lambda doc: None)
    assert reopened.loaded == ["work_order:WO-3"]
    await reopened.close()


def test_an_app_killed_at_any_instant_never_half_applies_an_edit(tmp_path: Path) -> None:
    db = tmp_path / "loop.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.client_sdk.device_process", "edit-loop", "--db", str(db), "--device", "loop"],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    committed = -1
    for line in process.stdout:
        committed = int(line.split()[1])
        if committed >= 150:
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)

    async def check() -> None:
        replica = await LocalReplica.open(db, device="loop")
        doc = await replica.read("work_order:WO-LOOP", lambda d: d)
        record = record_of(doc)
        notes = [n["text"] for n in doc.get("notes", type=Array).to_py()]
        edits = {int(k[1:]) for k in record if k[0] in "ab" and k[1:].isdigit()}
        assert set(range(committed + 1)) <= edits, "every edit reported committed survived"
        for i in edits:
            assert record.get(f"a{i}") == i and record.get(f"b{i}") == i and f"n{i}" in notes, f"edit {i} is half there"
        assert len(notes) == len(edits) and len(set(notes)) == len(notes)
        # the outbox holds exactly the same edits as the document (nothing was acknowledged)
        from_outbox = Doc()
        for entry in await replica.pending():
            from_outbox.apply_update(entry.update)
        assert record_of(from_outbox) == record
        view = await replica.get("work_order:WO-LOOP")
        assert view is not None and len(view.body["notes"]) == len(notes), "the projection is of the same commit"
        await replica.close()

    asyncio.run(check())


@pytest.mark.parametrize("bad", ["WO-1042", "spaceship:S-1", "work_order:"])
async def test_follow_checks_names_as_records_does(tmp_path: Path, bad: str) -> None:
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1")
    started: list[str] = []
    replica.on_follow.add(started.append)
    with pytest.raises(RecordError):
        await replica.follow("work_order:WO-1", bad)
    assert replica.followed() == [] and started == [], "nothing of a call with a bad name is followed"
    await replica.follow("work_order:WO-1", "warranty_claim:WC-1/internal")
    assert replica.followed() == ["warranty_claim:WC-1/internal", "work_order:WO-1"]
    await replica.close()
