"""One connection's view of one document: its authentication state and what waits for it."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from sync.access import Scope

if TYPE_CHECKING:
    from sync.protocol import Frame
    from sync.documents.room import Room


class LinkState(Enum):
    """Authentication of one document on one connection."""

    PENDING = "pending"  # frames arrived, or Auth is being checked: frames are held, not processed
    AUTHENTICATED = "authenticated"
    DENIED = "denied"


# Every transition a link may make, in one place.
TRANSITIONS: dict[LinkState, frozenset[LinkState]] = {
    LinkState.PENDING: frozenset({LinkState.AUTHENTICATED, LinkState.DENIED}),
    LinkState.AUTHENTICATED: frozenset({LinkState.AUTHENTICATED, LinkState.DENIED}),
    LinkState.DENIED: frozenset({LinkState.PENDING}),
}


class Link:
    """State of one document on one connection."""

    __slots__ = ("name", "state", "scope", "room", "held", "authenticating")

    def __init__(self, name: str) -> None:
        self.name = name
        self.state = LinkState.PENDING
        self.scope: Scope | None = None
        self.room: Room | None = None
        self.held: list[Frame] = []
        self.authenticating = False

    def move(self, state: LinkState) -> None:
        if state not in TRANSITIONS[self.state]:
            raise RuntimeError(f"link {self.name}: {self.state.value} -> {state.value} is not a transition")
        self.state = state

    @property
    def writable(self) -> bool:
        return self.state is LinkState.AUTHENTICATED and self.scope is Scope.READ_WRITE
