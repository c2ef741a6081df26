"""Several status steps made offline by one device are each judged: the chain, not only the jump."""

from __future__ import annotations

from pathlib import Path

from pycrdt import Array, merge_updates

from conflict import write_field
from tests.sync.replicas import Replica, conflicts_of, create, record
from tests.support.inproc import running_hub

JOB = "work_order:WO-1"


def offline_steps(replica: Replica, *statuses: str) -> bytes:
    """Each status written as the SDK writes a status (keeping its path), all sent later as one update."""
    updates = [replica.edit(lambda doc, s=status: write_field(
        doc, "status", s, clock=replica.clock, user=replica.user, roles=replica.roles, keep_path=True))
        for status in statuses]
    return merge_updates(*updates)


async def test_a_valid_three_step_offline_chain_is_accepted(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        base = await create(hub, JOB, {"status": "OPEN", "technician": "tech-1"}, roles=("admin",))
        tech = Replica(JOB, user="tech-1", device="tab-1", roles=("technician",), base=base)
        chain = offline_steps(tech, "IN_PROGRESS", "PENDING_APPROVAL")  # OPEN -> PENDING_APPROVAL is no transition
        assert await tech.connect(hub) == "read-write"
        tech.send(chain)
        assert await tech.settled() == [True]
        assert tech.notices() == []
        assert record(hub.rooms[("acme", JOB)].doc)["status"] == "PENDING_APPROVAL"


async def test_a_chain_with_an_invalid_step_is_caught_at_that_step_and_keeps_the_valid_ones(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        base = await create(hub, JOB, {"status": "OPEN", "technician": "tech-1"}, roles=("admin",))
        tech = Replica(JOB, user="tech-1", device="tab-1", roles=("technician",), base=base)
        chain = offline_steps(tech, "IN_PROGRESS", "COMPLETED", "CLOSED")  # completing is a supervisor's step
        assert await tech.connect(hub) == "read-write"
        tech.send(chain)
        assert await tech.settled() == [True]
        await tech.live(lambda doc: record(doc).get("status") == "IN_PROGRESS")
        (notice,) = tech.notices()
        assert (notice.code, notice.field) == ("role_not_allowed", "status")
        assert "IN_PROGRESS -> COMPLETED" in notice.message
        (row,) = [r for r in await conflicts_of(hub, JOB) if r.field == "status"]
        assert row.values[0]["value"] == "CLOSED" and row.winner == {"value": "IN_PROGRESS", "user": "hub"}
        history = hub.rooms[("acme", JOB)].doc.get("history", type=Array).to_py()
        assert [(h.get("old"), h["new"]) for h in history][-1] == ("OPEN", "IN_PROGRESS")
