"""One document on one connection: how far its exchange with the hub has come, and what is in flight."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum

from sync.protocol import decode_state_vector


class LinkState(Enum):
    AUTHENTICATING = "authenticating"
    SYNCING = "syncing"
    SYNCED = "synced"
    DENIED = "denied"


@dataclass(slots=True)
class Link:
    """The exchange of one document on the current connection (a new connection starts a new one)."""

    name: str
    state: LinkState = LinkState.AUTHENTICATING
    scope: str | None = None
    hub_step2: bool = False
    """The hub's answer to our step 1 was applied: we hold everything it had."""
    answered: bool = False
    """Our step 2 was sent in answer to the hub's step 1; outbox entries may follow."""
    inflight: deque[tuple[int, ...]] = field(default_factory=deque)
    """Per frame awaiting its SyncStatus, in order: the outbox id it carries, or ``()`` for a step 2."""
    last_sent: int = 0
    """The highest outbox id sent (moved back when an entry is refused, to send it again)."""
    blocked: str | None = None
    """A refusal code that re-sending on this connection cannot cure; the entries wait for the next one."""
    retry_at: float | None = None
    """When refused entries may be sent again."""
    step1_at: float | None = None
    """When to send our step 1 again, the previous exchange having been refused."""
    last_code: str | None = None
    """The code of the latest error notice (one may come just before or just after its refusal)."""
    step2_refused: bool = False
    first_refusal: bool = False
    """The latest refused entry was the first of its run, not one refused because an earlier one was."""

    @property
    def updates_in_flight(self) -> int:
        return sum(1 for ids in self.inflight if ids)

    @property
    def synced(self) -> bool:
        return (self.state in (LinkState.SYNCING, LinkState.SYNCED) and self.hub_step2 and self.answered
                and not self.inflight and self.blocked is None and self.step1_at is None)

    def restart_exchange(self, at: float) -> None:
        """Send step 1 again at ``at``: the hub answers with its step 2 and step 1, we with our step 2."""
        self.hub_step2 = self.answered = self.step2_refused = False
        self.step1_at = at


def covers(state_vector: bytes, other: bytes) -> bool:
    """Whether a peer at ``state_vector`` holds every insertion a peer at ``other`` holds."""
    mine = decode_state_vector(state_vector)
    return all(mine.get(client, 0) >= clock for client, clock in decode_state_vector(other).items())
