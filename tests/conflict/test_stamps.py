from __future__ import annotations

from typing import Any

from conflict import HlcTimestamp, make_stamp, new_stamps, parse_clocks, stamp_key
from conflict.stamps import split_stamp_key


def ts(wall: int, node: str, counter: int = 0) -> HlcTimestamp:
    return HlcTimestamp(wall, counter, node)


def entry(wall: int, node: str, value: Any, *, prev: HlcTimestamp | None = None) -> dict:
    written = make_stamp("priority", value, hlc=ts(wall, node), user=f"user-{node}", roles=["technician"], prev=prev)
    return written.to_entry()


def test_keys_are_field_at_device() -> None:
    assert stamp_key("priority", "dev-a") == "priority@dev-a"
    assert split_stamp_key("priority@dev@x") == ("priority", "dev@x")
    assert split_stamp_key("priority") is None
    assert split_stamp_key("@dev") is None
    assert split_stamp_key("priority@") is None


def test_a_stamp_round_trips_through_its_stored_form() -> None:
    stamp = make_stamp(
        "status", "OPEN", hlc=ts(10, "dev-a"), user="u1", roles=["technician", "admin"], prev=ts(5, "dev-b")
    )
    stored = stamp.to_entry()
    assert stored == {
        "hlc": "0000000000010-000000-dev-a",
        "user": "u1",
        "roles": ["admin", "technician"],
        "value": "OPEN",
        "prev": "0000000000005-000000-dev-b",
    }
    table = parse_clocks({stamp.key: stored})
    assert table.for_field("status") == (stamp,)
    assert table.problems == ()


def test_stamps_are_ordered_by_time_not_by_device() -> None:
    clocks = {
        "priority@dev-z": entry(10, "dev-z", "LOW"),
        "priority@dev-a": entry(30, "dev-a", "HIGH"),
        "priority@dev-m": entry(20, "dev-m", "MEDIUM"),
        "status@dev-a": make_stamp("status", "OPEN", hlc=ts(1, "dev-a"), user="u", roles=[], prev=None).to_entry(),
    }
    table = parse_clocks(clocks)
    assert [s.value for s in table.for_field("priority")] == ["LOW", "MEDIUM", "HIGH"]
    assert table.latest("priority").device == "dev-a"  # type: ignore[union-attr]
    assert table.latest("title") is None
    assert set(table.by_field) == {"priority", "status"}


def test_malformed_entries_are_reported_and_ignored() -> None:
    good = entry(10, "dev-a", "LOW")
    clocks = {
        "priority@dev-a": good,
        "no-device": good,
        "priority@dev-b": {**entry(10, "dev-b", "LOW"), "hlc": "yesterday"},
        "priority@dev-c": entry(10, "dev-x", "LOW"),  # node is not the key's device
        "priority@dev-d": entry(10, "dev-d", "LOW", prev=ts(10, "dev-d")),  # prev not older
        "priority@dev-e": "not an object",
        "priority@dev-f": {"hlc": "0000000000010-000000-dev-f"},  # no user
        "priority@dev-g": {**entry(10, "dev-g", "LOW"), "roles": "admin"},
    }
    table = parse_clocks(clocks)
    assert [s.device for s in table.for_field("priority")] == ["dev-a"]
    assert {p.key for p in table.problems} == set(clocks) - {"priority@dev-a"}


def test_non_maps_are_a_problem_not_an_error() -> None:
    assert parse_clocks(None).by_field == {}
    assert parse_clocks([1, 2]).problems[0].message == "clocks is not a map"  # type: ignore[arg-type]


def test_extra_keys_in_a_stamp_are_tolerated() -> None:
    table = parse_clocks({"priority@dev-a": {**entry(10, "dev-a", "LOW"), "added_later": True}})
    assert table.latest("priority").value == "LOW"  # type: ignore[union-attr]


def test_new_stamps_are_the_writes_an_update_brought() -> None:
    before = {"priority@dev-a": entry(10, "dev-a", "LOW")}
    after = {
        "priority@dev-a": entry(20, "dev-a", "HIGH", prev=ts(10, "dev-a")),
        "priority@dev-b": entry(15, "dev-b", "MEDIUM"),
    }
    added = new_stamps(before, after)
    assert sorted((s.device, s.value) for s in added) == [("dev-a", "HIGH"), ("dev-b", "MEDIUM")]
    assert new_stamps(after, after) == ()
    assert len(new_stamps(None, after)) == 2
    assert parse_clocks(after).contains(added[0])
    assert not parse_clocks(before).contains(added[0])
