"""One connection's view of one document: its authentication state and what waits for it."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from sync.access import Access, Principal, Scope

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

    __slots__ = ("name", "state", "scope", "access", "principal", "room", "held", "authenticating", "refused_for")

    def __init__(self, name: str) -> None:
        self.name = name
        self.state = LinkState.PENDING
        self.scope: Scope | None = None
        self.access: Access | None = None
        #: The principal of the token that authenticated the document: every frame of it acts for this one.
        self.principal: Principal | None = None
        self.room: Room | None = None
        self.held: list[Frame] = []
        self.authenticating = False
        #: Set when a verified token was refused access (or lost it): its updates are kept for review.
        self.refused_for: Principal | None = None

    def move(self, state: LinkState) -> None:
        if state not in TRANSITIONS[self.state]:
            raise RuntimeError(f"link {self.name}: {self.state.value} -> {state.value} is not a transition")
        self.state = state

    def expired(self, now: float) -> bool:
        """True when the token that authenticated the document has expired."""
        expires = self.principal.expires_at if self.principal is not None else None
        return expires is not None and now >= expires

    @property
    def writable(self) -> bool:
        return self.state is LinkState.AUTHENTICATED and self.scope is Scope.READ_WRITE
