"""Awareness (presence) of one document: who is looking, relayed but never stored.

The hub keeps the latest state per Yjs client id with the connection that sent it, so that it can answer
QueryAwareness and tell the others when a connection goes away (Yjs semantics: a removal is the next clock
with a ``null`` state).
"""

from __future__ import annotations

from typing import Hashable

from sync.protocol.awareness import AwarenessEntry

REMOVED = "null"


class AwarenessRegistry:
    """Latest awareness state per client id, with the owner (connection) that reported it."""

    def __init__(self) -> None:
        self._states: dict[int, tuple[int, str, Hashable]] = {}
        self._clocks: dict[int, int] = {}

    def apply(self, entries: list[AwarenessEntry], owner: Hashable) -> list[AwarenessEntry]:
        """Apply an update from ``owner``; returns the entries that changed something (to relay)."""
        accepted: list[AwarenessEntry] = []
        for entry in entries:
            known = self._clocks.get(entry.client_id)
            removal = entry.state == REMOVED
            newer = known is None or entry.clock > known
            if not newer and not (entry.clock == known and removal and entry.client_id in self._states):
                continue
            self._clocks[entry.client_id] = entry.clock
            if removal:
                self._states.pop(entry.client_id, None)
            else:
                self._states[entry.client_id] = (entry.clock, entry.state, owner)
            accepted.append(entry)
        return accepted

    def remove_owner(self, owner: Hashable) -> list[AwarenessEntry]:
        """Forget every client of ``owner``; returns the removal entries to relay to the others."""
        gone = [cid for cid, (_, _, who) in self._states.items() if who is owner]
        removals = []
        for client_id in gone:
            clock = self._states.pop(client_id)[0] + 1
            self._clocks[client_id] = clock
            removals.append(AwarenessEntry(client_id, clock, REMOVED))
        return removals

    def snapshot(self) -> list[AwarenessEntry]:
        """Every present client's current state."""
        return [AwarenessEntry(cid, clock, state) for cid, (clock, state, _) in self._states.items()]

    def __len__(self) -> int:
        return len(self._states)
