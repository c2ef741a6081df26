from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from conflict import current_entries, previous_version, removed_entries


def hlc(wall: int, node: str = "dev") -> str:
    return f"{wall:013d}-000000-{node}"


def test_the_newest_version_of_each_item_is_current() -> None:
    entries = [
        {"id": "t1", "status": "PENDING", "hlc": hlc(1)},
        {"text": "a note"},
        {"id": "t2", "status": "PENDING", "hlc": hlc(2)},
        {"id": "t1", "status": "DONE", "hlc": hlc(5)},
        {"id": "t1", "status": "SKIPPED", "hlc": hlc(3)},  # appended later, but older
    ]
    assert current_entries(entries) == [
        {"id": "t1", "status": "DONE", "hlc": hlc(5)},
        {"text": "a note"},
        {"id": "t2", "status": "PENDING", "hlc": hlc(2)},
    ]
    assert previous_version(entries, "t1") == {"id": "t1", "status": "DONE", "hlc": hlc(5)}
    assert previous_version(entries, "t9") is None


def test_versions_without_a_readable_time_lose_to_timed_ones() -> None:
    entries = [{"id": "x", "v": 1, "hlc": hlc(1)}, {"id": "x", "v": 2, "hlc": "bogus"}, {"id": "x", "v": 3}]
    assert current_entries(entries) == [{"id": "x", "v": 1, "hlc": hlc(1)}]
    untimed = [{"id": "x", "v": 1}, {"id": "x", "v": 2}]
    assert current_entries(untimed) == [{"id": "x", "v": 2}]


def test_entries_that_are_not_objects_are_kept_as_they_are() -> None:
    assert current_entries([1, "two", None, {"id": 3}]) == [1, "two", None, {"id": 3}]


VERSIONS = [{"id": "p", "n": n, "hlc": hlc(n, node)} for n, node in [(1, "a"), (2, "b"), (2, "c"), (7, "a")]]


@given(st.permutations(VERSIONS))
def test_the_current_version_does_not_depend_on_array_order(entries: list[dict]) -> None:
    assert current_entries(entries) == [{"id": "p", "n": 7, "hlc": hlc(7, "a")}]


def test_removed_entries_counts_duplicates_and_ignores_number_types() -> None:
    before = [{"q": 3, "tags": [1, 2]}, {"q": 3, "tags": [1, 2]}, {"text": "x"}]
    after = [{"text": "x"}, {"q": 3.0, "tags": [1.0, 2.0]}]  # pycrdt hands numbers back as floats
    assert removed_entries(before, after) == [{"q": 3, "tags": [1, 2]}]
    assert removed_entries(before, [*after, {"tags": [1, 2], "q": 3}]) == []
    assert removed_entries([True], [1]) == [True]
