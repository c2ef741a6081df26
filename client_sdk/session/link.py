"""One document on one connection: where its exchange with the hub stands, and what is in flight.

The state is one ``LinkState``; ``Link.move`` is the only place that changes it, and it refuses a move that
``TRANSITIONS`` does not list (a bug in the session, not something the hub can cause). The normal path is
``QUEUED → AUTHENTICATING → EXCHANGING → CAUGHT_UP (or ANSWERED) → SENDING ⇄ SYNCED``; refusals branch off
it (``PAUSED``, ``RESTARTING``, ``BLOCKED``, ``REOPENING``, ``DENIED``, ``REJECTING``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum

from sync.protocol import decode_state_vector


class LinkState(Enum):
    """Where one document's exchange with the hub stands on the current connection."""

    QUEUED = "queued"
    """To open: its Auth and step 1 go out with the next batch."""
    AUTHENTICATING = "authenticating"
    """Auth and our step 1 sent; waiting for ``Authenticated``."""
    EXCHANGING = "exchanging"
    """Authenticated; waiting for the hub's step 2 (what we lack) and its step 1 (which our step 2 answers)."""
    CAUGHT_UP = "caught_up"
    """The hub's step 2 is applied: we hold everything it had. Its step 1 has not come yet."""
    ANSWERED = "answered"
    """Our step 2 answered the hub's step 1; the hub's step 2 has not come yet."""
    SENDING = "sending"
    """Exchanged both ways: outbox entries go out as they are sealed; some are unsent or unacknowledged."""
    SYNCED = "synced"
    """Exchanged, nothing in flight, no outbox entry left."""
    PAUSED = "paused"
    """Entries were refused for a passing reason: they (and every one after them) go again at ``due``."""
    RESTARTING = "restarting"
    """The exchange must start again (refused, or the hub lacks older changes): our step 1 goes at ``due``."""
    BLOCKED = "blocked"
    """A write was refused for a reason re-sending on this connection cannot cure; entries wait for the next."""
    REOPENING = "reopening"
    """The Auth was refused for a passing reason: it goes again at ``due``."""
    DENIED = "denied"
    """The Auth was refused for good on this connection."""
    REJECTING = "rejecting"
    """The token may not reach the record (``forbidden``) or lost it (``access_revoked``): each outbox entry is
    sent once, for the hub's review queue, and kept as rejected when the hub refuses it; the answers to what
    was sent before still come. For the rest of the connection."""


_CUT_OFF = frozenset({LinkState.BLOCKED, LinkState.REOPENING, LinkState.DENIED, LinkState.REJECTING})
"""What a refusal may do to any opened document."""

#: Every move a link may make, in one place.
TRANSITIONS: dict[LinkState, frozenset[LinkState]] = {
    LinkState.QUEUED: frozenset({LinkState.AUTHENTICATING}),
    LinkState.AUTHENTICATING: frozenset({LinkState.EXCHANGING, LinkState.RESTARTING}) | _CUT_OFF,
    LinkState.EXCHANGING: frozenset({LinkState.CAUGHT_UP, LinkState.ANSWERED, LinkState.RESTARTING}) | _CUT_OFF,
    LinkState.CAUGHT_UP: frozenset({LinkState.SENDING, LinkState.RESTARTING}) | _CUT_OFF,
    LinkState.ANSWERED: frozenset({LinkState.SENDING, LinkState.RESTARTING}) | _CUT_OFF,
    LinkState.SENDING: frozenset({LinkState.SYNCED, LinkState.PAUSED, LinkState.RESTARTING}) | _CUT_OFF,
    LinkState.SYNCED: frozenset({LinkState.SENDING, LinkState.PAUSED, LinkState.RESTARTING}) | _CUT_OFF,
    LinkState.PAUSED: frozenset({LinkState.SENDING, LinkState.PAUSED, LinkState.RESTARTING}) | _CUT_OFF,
    LinkState.RESTARTING: frozenset({LinkState.EXCHANGING, LinkState.RESTARTING}) | _CUT_OFF,
    LinkState.BLOCKED: _CUT_OFF,
    LinkState.REOPENING: frozenset({LinkState.QUEUED}),
    LinkState.DENIED: frozenset(),
    LinkState.REJECTING: frozenset(),
}

#: States that wait for ``due``.
TIMED = frozenset({LinkState.PAUSED, LinkState.RESTARTING, LinkState.REOPENING})
#: States in which the hub may be sent outbox entries.
FLOWING = frozenset({LinkState.SENDING, LinkState.SYNCED})
#: States in which our step 2 has not been sent on the current exchange.
UNANSWERED = frozenset({LinkState.AUTHENTICATING, LinkState.EXCHANGING, LinkState.CAUGHT_UP, LinkState.RESTARTING})
#: States in which frames about the document are not expected (it is not open on the hub).
CLOSED = frozenset({LinkState.QUEUED, LinkState.REOPENING})
#: States in which the hub serves the document under the token of its last Auth (a new token re-authenticates it).
SERVED = frozenset({LinkState.EXCHANGING, LinkState.CAUGHT_UP, LinkState.ANSWERED, LinkState.SENDING,
                    LinkState.SYNCED, LinkState.PAUSED, LinkState.RESTARTING, LinkState.BLOCKED})


class Refused(Enum):
    """What the latest ``SyncStatus(false)`` refused, until the error notice that explains it is read."""

    STEP2 = "step2"
    FIRST_ENTRY = "first_entry"
    """An entry refused first in its run (the ones after it are refused for the gap it left)."""
    LATER_ENTRY = "later_entry"


@dataclass(slots=True)
class Rejections:
    """Pairs each refused entry of a ``REJECTING`` link with the notice that explains it.

    The hub answers each refused update with one ``SyncStatus(false)`` and one error notice, both in the
    order the updates came; the notice is sent at once while the status waits behind earlier commits, so
    either may come first. Pairing the two queues in order gives every entry its own reason.
    """

    refused: deque[tuple[int, ...]] = field(default_factory=deque)
    reasons: deque[tuple[str, str]] = field(default_factory=deque)
    """The code and message of each notice."""
    resend: set[int] = field(default_factory=set)
    """Entries refused for a passing reason (the device was over its rate): sent again once it has passed."""

    def pairs(self) -> list[tuple[tuple[int, ...], tuple[str, str]]]:
        """Every refused frame whose status and notice have both come: its entry ids, the notice's code and message."""
        matched = []
        while self.refused and self.reasons:
            matched.append((self.refused.popleft(), self.reasons.popleft()))
        return matched

    @property
    def unexplained(self) -> bool:
        return bool(self.refused)


@dataclass(slots=True)
class Link:
    """The exchange of one document on the current connection (a new connection starts a new one)."""

    name: str
    state: LinkState = LinkState.QUEUED
    due: float | None = None
    """When a ``TIMED`` state has waited enough."""
    inflight: deque[tuple[int, ...]] = field(default_factory=deque)
    """Per frame awaiting its SyncStatus, in order: the outbox id it carries, or ``()`` for a step 2."""
    last_sent: int = 0
    """The highest outbox id sent (moved back when an entry is refused, to send it again)."""
    last_code: str | None = None
    """The code of the latest error notice (one may come just before or just after its refusal)."""
    refused: Refused | None = None
    """What the latest refused frame carried, until its notice says whether to exchange again."""
    error: tuple[str, str] | None = None
    """The code and reason of the refusal that put it in ``BLOCKED``, ``DENIED`` or ``REJECTING``."""
    token: str | None = None
    """The token of its latest Auth on this connection."""
    rejections: Rejections = field(default_factory=Rejections)
    """While ``REJECTING``: refused entries and the notices that say why, paired in order."""

    def move(self, state: LinkState, *, due: float | None = None) -> None:
        """Go to ``state`` (waiting until ``due`` in a ``TIMED`` one); ``RuntimeError`` for a move not listed."""
        if state not in TRANSITIONS[self.state]:
            raise RuntimeError(f"link {self.name}: {self.state.value} -> {state.value} is not a transition")
        if (due is None) == (state in TIMED):
            raise RuntimeError(f"link {self.name}: {state.value} {'needs' if due is None else 'takes no'} due time")
        self.state, self.due = state, due
        if state is LinkState.QUEUED:  # a new exchange: nothing of the refused one carries over
            self.inflight.clear()
            self.last_sent = 0
            self.last_code = self.refused = self.error = None

    def is_due(self, now: float) -> bool:
        return self.due is not None and self.due <= now

    @property
    def updates_in_flight(self) -> int:
        return sum(1 for ids in self.inflight if ids)


def covers(state_vector: bytes, other: bytes) -> bool:
    """Whether a peer at ``state_vector`` holds every insertion a peer at ``other`` holds."""
    mine = decode_state_vector(state_vector)
    return all(mine.get(client, 0) >= clock for client, clock in decode_state_vector(other).items())
