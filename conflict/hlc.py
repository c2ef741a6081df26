"""Hybrid logical clocks: wall time that never runs backwards and orders causally related events.

A timestamp is (wall milliseconds, counter, node). The wall part follows the physical clock when it moves
forward; when it stalls or jumps back, or when a remote timestamp is ahead, the counter breaks the tie, so
every timestamp a clock issues is greater than every timestamp it has issued or observed before. Two
timestamps never compare equal unless they come from the same node at the same instant: the node id is the
last key of the order.

The text form is fixed width, so sorting the strings sorts the timestamps:
``0001732300000000-000042-device-7`` is wall ``1732300000000``, counter ``42``, node ``device-7``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import msgspec

from conflict.errors import ClockDriftError, HlcError

WALL_DIGITS = 13
COUNTER_DIGITS = 6
#: The largest wall time the text form holds (year 2286).
MAX_WALL_MS = 10**WALL_DIGITS - 1
#: The counter carries into the wall time past this value, so the text form keeps its width.
MAX_COUNTER = 10**COUNTER_DIGITS - 1
MAX_NODE_LENGTH = 128

# Visible ASCII only: node ids are device ids, compared as text, and must survive any JSON or SQL round trip.
_NODE_PATTERN = rf"[\x21-\x7e]{{1,{MAX_NODE_LENGTH}}}"
_NODE = re.compile(_NODE_PATTERN)
_ENCODED = re.compile(
    rf"(?P<wall>[0-9]{{{WALL_DIGITS}}})-(?P<counter>[0-9]{{{COUNTER_DIGITS}}})-(?P<node>{_NODE_PATTERN})"
)


def wall_clock_ms() -> int:
    """The physical clock: milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000


def _check_node(node: object) -> str:
    if not isinstance(node, str) or _NODE.fullmatch(node) is None:
        raise HlcError(f"node id must be 1 to {MAX_NODE_LENGTH} visible ASCII characters, got {node!r:.80}")
    return node


class HlcTimestamp(msgspec.Struct, frozen=True, order=True):
    """One instant of a hybrid logical clock, totally ordered by (wall_ms, counter, node)."""

    wall_ms: int
    counter: int
    node: str

    def __post_init__(self) -> None:
        # msgspec does not check ranges on construction; a timestamp outside them could not be encoded.
        for name, value, upper in (("wall_ms", self.wall_ms, MAX_WALL_MS), ("counter", self.counter, MAX_COUNTER)):
            if type(value) is not int or not 0 <= value <= upper:
                raise HlcError(f"{name} must be an integer in 0..{upper}, got {value!r}")
        _check_node(self.node)

    def encode(self) -> str:
        """The sortable, fixed-width text form."""
        return f"{self.wall_ms:0{WALL_DIGITS}d}-{self.counter:0{COUNTER_DIGITS}d}-{self.node}"

    @classmethod
    def decode(cls, text: str) -> HlcTimestamp:
        """Parse the text form; raises ``HlcError`` on anything that ``encode`` could not have produced."""
        match = _ENCODED.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise HlcError(f"not an HLC timestamp: {str(text)[:80]!r}")
        return cls(int(match["wall"]), int(match["counter"]), match["node"])

    def __str__(self) -> str:
        return self.encode()


def _advance(wall_ms: int, counter: int, node: str) -> HlcTimestamp:
    """A timestamp at (wall_ms, counter), carrying a full counter into the wall time."""
    if counter > MAX_COUNTER:
        wall_ms, counter = wall_ms + 1, 0
    if wall_ms > MAX_WALL_MS:
        raise HlcError("the clock has reached the largest encodable wall time")
    return HlcTimestamp(wall_ms, counter, node)


class Hlc:
    """A hybrid logical clock owned by one node (a device, or a hub node for its own corrections).

    ``clock`` is the physical time source in milliseconds (injectable for tests). ``last`` resumes from a
    persisted timestamp so that a restart never issues a smaller one. ``max_drift_ms``, when set, makes
    ``observe`` refuse remote timestamps that far ahead of the local clock: one device with a clock set years
    ahead would otherwise win every last-writer-wins decision until real time catches up.
    """

    def __init__(
        self,
        node: str,
        clock: Callable[[], int] = wall_clock_ms,
        *,
        last: HlcTimestamp | None = None,
        max_drift_ms: int | None = None,
    ) -> None:
        self._node = _check_node(node)
        self._clock = clock
        self._last = last
        if max_drift_ms is not None and max_drift_ms < 0:
            raise HlcError("max_drift_ms must not be negative")
        self._max_drift_ms = max_drift_ms

    @property
    def node(self) -> str:
        return self._node

    @property
    def last(self) -> HlcTimestamp | None:
        """The greatest timestamp issued so far (persist it to resume after a restart)."""
        return self._last

    def fresh(self) -> Hlc:
        """A clock with this one's node and time source that has observed nothing yet.

        What one writer uses for one document: the stamps it observes there (a forged one among them) cannot
        move the clock it uses for every other document.
        """
        return Hlc(self._node, self._clock, max_drift_ms=self._max_drift_ms)

    def wall_ms(self) -> int:
        """The time source's reading now, in milliseconds (what ``now`` builds on)."""
        return self._physical()

    def _physical(self) -> int:
        now = self._clock()
        if type(now) is not int or now < 0:
            raise HlcError(f"the time source returned {now!r}, not a non-negative integer of milliseconds")
        return now

    def now(self) -> HlcTimestamp:
        """A timestamp for a local event, greater than every one issued or observed before."""
        physical = self._physical()
        last = self._last
        if last is None or physical > last.wall_ms:
            stamp = _advance(physical, 0, self._node)
        else:
            stamp = _advance(last.wall_ms, last.counter + 1, self._node)
        self._last = stamp
        return stamp

    def observe(self, remote: HlcTimestamp) -> HlcTimestamp:
        """Merge a timestamp received from another node; returns a local timestamp greater than both.

        Raises ``ClockDriftError`` (leaving the clock unchanged) when ``remote`` is further ahead than
        ``max_drift_ms``.
        """
        physical = self._physical()
        if self._max_drift_ms is not None and remote.wall_ms - physical > self._max_drift_ms:
            raise ClockDriftError(remote.wall_ms, physical, self._max_drift_ms)
        last = self._last
        last_wall, last_counter = (last.wall_ms, last.counter) if last is not None else (-1, -1)
        wall = max(physical, last_wall, remote.wall_ms)
        if wall == last_wall and wall == remote.wall_ms:
            counter = max(last_counter, remote.counter) + 1
        elif wall == last_wall:
            counter = last_counter + 1
        elif wall == remote.wall_ms:
            counter = remote.counter + 1
        else:
            counter = 0
        stamp = _advance(wall, counter, self._node)
        self._last = stamp
        return stamp
