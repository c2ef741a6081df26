from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conflict.errors import ClockDriftError, HlcError
from conflict.hlc import MAX_COUNTER, MAX_WALL_MS, Hlc, HlcTimestamp

nodes = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20)
timestamps = st.builds(
    HlcTimestamp,
    wall_ms=st.integers(0, MAX_WALL_MS),
    counter=st.integers(0, MAX_COUNTER),
    node=nodes,
)


class FakeClock:
    """A physical clock that returns the given readings in turn, then repeats the last one."""

    def __init__(self, *readings: int) -> None:
        self.readings = list(readings)

    def __call__(self) -> int:
        return self.readings.pop(0) if len(self.readings) > 1 else self.readings[0]


def test_now_follows_the_physical_clock_when_it_moves_forward() -> None:
    hlc = Hlc("dev-a", FakeClock(100, 250))
    assert hlc.now() == HlcTimestamp(100, 0, "dev-a")
    assert hlc.now() == HlcTimestamp(250, 0, "dev-a")


def test_now_stays_monotonic_when_the_clock_goes_backwards() -> None:
    hlc = Hlc("dev-a", FakeClock(1000, 1000, 400, 10, 999, 1001))
    stamps = [hlc.now() for _ in range(6)]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 6
    assert [(s.wall_ms, s.counter) for s in stamps] == [(1000, n) for n in range(5)] + [(1001, 0)]
    assert hlc.last == stamps[-1]


def test_observe_adopts_a_remote_time_ahead_and_keeps_counting_from_it() -> None:
    hlc = Hlc("dev-a", FakeClock(100))
    hlc.now()
    merged = hlc.observe(HlcTimestamp(5000, 7, "dev-z"))
    assert merged == HlcTimestamp(5000, 8, "dev-a")
    assert hlc.now() == HlcTimestamp(5000, 9, "dev-a")


def test_observe_of_an_older_remote_follows_the_local_clock() -> None:
    hlc = Hlc("dev-a", FakeClock(9000))
    assert hlc.observe(HlcTimestamp(10, 50, "dev-z")) == HlcTimestamp(9000, 0, "dev-a")


def test_observe_with_equal_walls_takes_the_larger_counter() -> None:
    hlc = Hlc("dev-a", FakeClock(500))
    hlc.now()
    hlc.now()  # (500, 1)
    assert hlc.observe(HlcTimestamp(500, 9, "dev-z")) == HlcTimestamp(500, 10, "dev-a")
    assert hlc.observe(HlcTimestamp(500, 2, "dev-z")) == HlcTimestamp(500, 11, "dev-a")


def test_a_full_counter_carries_into_the_wall_time() -> None:
    hlc = Hlc("dev-a", FakeClock(10), last=HlcTimestamp(100, MAX_COUNTER, "dev-a"))
    assert hlc.now() == HlcTimestamp(101, 0, "dev-a")


def test_resuming_from_a_persisted_timestamp_never_goes_back() -> None:
    saved = HlcTimestamp(10_000, 3, "dev-a")
    hlc = Hlc("dev-a", FakeClock(5), last=saved)
    assert hlc.now() > saved


def test_observe_refuses_a_remote_too_far_ahead_and_leaves_the_clock_alone() -> None:
    hlc = Hlc("dev-a", FakeClock(1_000), max_drift_ms=60_000)
    before = hlc.now()
    with pytest.raises(ClockDriftError) as caught:
        hlc.observe(HlcTimestamp(1_000 + 60_001, 0, "dev-z"))
    assert caught.value.max_drift_ms == 60_000
    assert hlc.last == before
    assert hlc.observe(HlcTimestamp(1_000 + 60_000, 0, "dev-z")).wall_ms == 61_000


def test_a_broken_time_source_is_reported() -> None:
    with pytest.raises(HlcError):
        Hlc("dev-a", lambda: 1.5).now()  # type: ignore[arg-type, return-value]
    with pytest.raises(HlcError):
        Hlc("dev-a", lambda: -1).now()


def test_order_is_wall_then_counter_then_node() -> None:
    assert HlcTimestamp(1, 9, "a") < HlcTimestamp(2, 0, "a")
    assert HlcTimestamp(1, 1, "z") < HlcTimestamp(1, 2, "a")
    assert HlcTimestamp(1, 1, "dev-a") < HlcTimestamp(1, 1, "dev-b")
    assert HlcTimestamp(1, 1, "dev-b").encode() > HlcTimestamp(1, 1, "dev-a").encode()


@given(timestamps)
def test_encode_decode_round_trip(stamp: HlcTimestamp) -> None:
    text = stamp.encode()
    assert HlcTimestamp.decode(text) == stamp
    assert str(stamp) == text


@given(st.lists(timestamps, min_size=2, max_size=20))
def test_text_order_is_timestamp_order(stamps: list[HlcTimestamp]) -> None:
    assert sorted(s.encode() for s in stamps) == [s.encode() for s in sorted(stamps)]


@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("now"), st.integers(0, 10_000)),
            st.tuples(st.just("observe"), st.integers(0, 10_000), timestamps.filter(lambda t: t.wall_ms < 20_000)),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_every_timestamp_issued_is_greater_than_all_before(ops: list[tuple]) -> None:
    readings = [op[1] for op in ops]
    hlc = Hlc("dev-a", FakeClock(*readings))
    seen: list[HlcTimestamp] = []
    for op in ops:
        if op[0] == "now":
            stamp = hlc.now()
        else:
            stamp = hlc.observe(op[2])
            assert stamp > op[2]
        assert all(stamp > earlier for earlier in seen)
        assert stamp.node == "dev-a"
        seen.append(stamp)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "1-2-node",
        "000000000000-000000-node",  # 12-digit wall
        "0000000000001-00000-node",  # 5-digit counter
        "0000000000001-000000-",  # empty node
        "0000000000001-000000-no de",  # space in node
        "0000000000001-000000-node\n",
        " 0000000000001-000000-node",
        "+000000000001-000000-node",
        "000000000000١-000000-node",  # a non-ASCII digit
        "0000000000001_000000_node",
        "0000000000001-000000-" + "n" * 129,
        "0000000000001-000000-nodé",
    ],
)
def test_bad_strings_are_rejected(text: str) -> None:
    with pytest.raises(HlcError):
        HlcTimestamp.decode(text)


@pytest.mark.parametrize("value", [None, 123, b"0000000000001-000000-node"])
def test_non_strings_are_rejected(value: object) -> None:
    with pytest.raises(HlcError):
        HlcTimestamp.decode(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("wall", "counter", "node"),
    [
        (-1, 0, "n"),
        (MAX_WALL_MS + 1, 0, "n"),
        (0, -1, "n"),
        (0, MAX_COUNTER + 1, "n"),
        (True, 0, "n"),
        (0, 0, ""),
        (0, 0, "a b"),
    ],
)
def test_out_of_range_timestamps_cannot_be_built(wall: int, counter: int, node: str) -> None:
    with pytest.raises(HlcError):
        HlcTimestamp(wall, counter, node)


def test_a_clock_needs_a_valid_node() -> None:
    with pytest.raises(HlcError):
        Hlc("has space")
    with pytest.raises(HlcError):
        Hlc("dev", max_drift_ms=-1)
