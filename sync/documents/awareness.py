"""Awareness (presence) of one document: who is looking, relayed but never stored.

The hub keeps the latest state per Yjs client id with the connection that sent it, so that it can answer
QueryAwareness and tell the others when a connection goes away (Yjs semantics: a removal is the next clock
with a ``null`` state). A client id belongs to the connection that first set it, until that connection
leaves: an update or removal of it from any other connection is dropped. What one connection holds (over
all its documents, an ``AwarenessBudget``) and what one document holds are both bounded in bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable

from sync.protocol.awareness import AwarenessEntry

REMOVED = "null"
#: What one client id costs besides its state: the registry's own entries for it.
ENTRY_COST = 64
#: Clocks kept for client ids whose connection left (so a stale state cannot come back), per document.
DEPARTED_CLOCKS = 4096


class AwarenessBudget:
    """The awareness bytes one connection holds over all its documents, against its limit."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0


@dataclass
class AwarenessOutcome:
    """What an update from one connection did: the entries to relay, and how many were dropped and why."""

    accepted: list[AwarenessEntry] = field(default_factory=list)
    not_owned: int = 0
    too_large: int = 0


class AwarenessRegistry:
    """Latest awareness state per client id, with the owner (connection) that reported it."""

    def __init__(self, *, document_limit: int = 1024 * 1024) -> None:
        self.document_limit = document_limit
        self.bytes = 0
        self._states: dict[int, tuple[int, str, Hashable]] = {}
        self._owners: dict[int, Hashable] = {}
        self._costs: dict[int, int] = {}
        self._clocks: dict[int, int] = {}
        self._budgets: dict[Hashable, AwarenessBudget] = {}
        self._departed: dict[int, None] = {}

    def apply(self, entries: list[AwarenessEntry], owner: Hashable, budget: AwarenessBudget | None = None) -> AwarenessOutcome:
        """Apply an update from ``owner``; the outcome lists the entries that changed something (to relay)."""
        outcome = AwarenessOutcome()
        if budget is None:
            budget = self._budgets.get(owner) or AwarenessBudget(self.document_limit)
        for entry in entries:
            cid = entry.client_id
            holder = self._owners.get(cid)
            if holder is not None and holder is not owner:
                outcome.not_owned += 1
                continue
            known = self._clocks.get(cid)
            removal = entry.state == REMOVED
            newer = known is None or entry.clock > known
            if not newer and not (entry.clock == known and removal and cid in self._states):
                continue
            if removal and holder is None:
                continue  # nothing of this connection's to remove
            cost = ENTRY_COST + (0 if removal else len(entry.state.encode()))
            delta = cost - self._costs.get(cid, 0)
            if delta > 0 and (budget.used + delta > budget.limit or self.bytes + delta > self.document_limit):
                outcome.too_large += 1
                continue
            budget.used += delta
            self.bytes += delta
            self._costs[cid] = cost
            self._owners[cid] = owner
            self._budgets[owner] = budget
            self._departed.pop(cid, None)
            self._clocks[cid] = entry.clock
            if removal:
                self._states.pop(cid, None)
            else:
                self._states[cid] = (entry.clock, entry.state, owner)
            outcome.accepted.append(entry)
        return outcome

    def remove_owner(self, owner: Hashable) -> list[AwarenessEntry]:
        """Forget every client of ``owner`` and give back what it held; returns the removals to relay."""
        budget = self._budgets.pop(owner, None)
        owned = [cid for cid, who in self._owners.items() if who is owner]
        removals = []
        for cid in owned:
            del self._owners[cid]
            cost = self._costs.pop(cid, 0)
            self.bytes -= cost
            if budget is not None:
                budget.used -= cost
            present = self._states.pop(cid, None)
            if present is not None:
                self._clocks[cid] = present[0] + 1
                removals.append(AwarenessEntry(cid, present[0] + 1, REMOVED))
            self._departed[cid] = None
        while len(self._departed) > DEPARTED_CLOCKS:  # the oldest departed clocks go first
            oldest = next(iter(self._departed))
            del self._departed[oldest]
            self._clocks.pop(oldest, None)
        return removals

    def snapshot(self) -> list[AwarenessEntry]:
        """Every present client's current state."""
        return [AwarenessEntry(cid, clock, state) for cid, (clock, state, _) in self._states.items()]

    def __len__(self) -> int:
        return len(self._states)
