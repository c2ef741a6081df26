"""The replica's side of scopes: one event per committed change, none for a change that changes nothing."""

from __future__ import annotations

from pathlib import Path

from client_sdk import LocalReplica, ScopeChange


async def test_each_committed_change_is_one_event_and_a_no_op_is_none(tmp_path: Path) -> None:
    replica = await LocalReplica.open(tmp_path / "d.db", device="d1")
    changes: list[ScopeChange] = []
    replica.on_scope.add(changes.append)
    id = await replica.follow_scope("policy_with_claims", {"policy": "POL-9"})
    assert await replica.follow_scope("policy_with_claims", {"policy": "POL-9"}) == id, "the same follow twice"
    assert await replica.unfollow_scope("no_such_subscription") is None
    assert [change.subscription for change in changes] == [id]
    change = await replica.apply_scope_members(id, 1, members=["policy:POL-9", "not a name"])
    assert change is not None and change.added == ("policy:POL-9",) and change.followed == ("policy:POL-9",)
    change = await replica.unfollow_scope(id)
    assert change is not None and change.unfollowed == ("policy:POL-9",) and replica.followed() == []
    assert len(changes) == 3
    await replica.close()
