"""Where a room stands in its document's log, as numbered by the store (``LogEntry.seq``: 1, 2, ... per document).

A room knows three numbers. ``merged``: every entry numbered up to it is merged in the room, which is what a
catch-up compares with the store's head to decide whether the room must be read again. ``head``: the
highest entry number this node has heard of (its own commits, other nodes' through the bus, the store's).
``folded``: the entries up to it are in the store's snapshot. ``head - folded`` is the log's real length,
whichever nodes appended or compacted, which is what compaction is triggered by.
"""

from __future__ import annotations

__all__ = ["Position"]

#: Entries merged out of order that a room remembers; beyond this it forgets them (its ``merged`` then
#: stays lower than it could be, which only costs a read at the next catch-up).
MAX_AHEAD = 4096


class Position:
    """A room's position in its document's log."""

    __slots__ = ("_ahead", "folded", "head", "merged")

    def __init__(self) -> None:
        self.merged = 0
        self.head = 0
        self.folded = 0
        self._ahead: set[int] = set()

    def read(self, head: int, folded: int) -> None:
        """The room now holds a state read from the store that has every entry up to ``head``."""
        self.stored(head, folded)
        if head > self.merged:
            self.merged = head
            self._advance()

    def stored(self, head: int, folded: int) -> None:
        """The store's position was read (the room's content is unchanged)."""
        self.head = max(self.head, head)
        self.folded = max(self.folded, folded)

    def noted(self, seq: int) -> None:
        """Entry ``seq`` is merged in the room (0: a number not known, from a node that does not send them)."""
        if seq <= 0:
            return
        self.head = max(self.head, seq)
        if seq == self.merged + 1:
            self.merged = seq
            self._advance()
        elif seq > self.merged and len(self._ahead) < MAX_AHEAD:
            self._ahead.add(seq)

    def _advance(self) -> None:
        ahead = self._ahead
        while self.merged + 1 in ahead:
            self.merged += 1
        if ahead:
            self._ahead = {seq for seq in ahead if seq > self.merged}

    @property
    def length(self) -> int:
        """Entries of the log beyond the snapshot, as far as this node knows."""
        return max(0, self.head - self.folded)
