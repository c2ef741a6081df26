"""A connection's documents held to what their tokens allow now, not only at Auth.

Three things end or narrow a document's access after it was authenticated, and all three live here: a field the
access rules read moved (``recheck``, called through the ``AccessWatch`` extension), the token expired (a timer at
the earliest expiry of the connection's tokens), and a token refused access that goes on sending updates
(``refused``: each is kept for review, stored before the device is told, see ``sync.referee.rejections``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

from sync.connection.link import Link, LinkState
from sync.connection.replies import Replies
from sync.documents.room import Room
from sync.access import Principal
from sync.errors import AuthError, FieldsyncError, LimitExceeded, StoreError
from sync.gate import AccessGate
from sync.protocol import Authenticated, Frame, Sync, SyncStep, encode_frame
from sync.protocol.codes import ErrorCode
from sync.referee.rejections import Kept, Rejections

__all__ = ["AccessKeeper"]

Deny = Callable[[Link, FieldsyncError], None]

#: Refused updates of one connection waiting to be stored for review; more are refused as over the rate.
MAX_REJECTING = 64
_KEPT = {
    Kept.STORED: "this token may not write the document; the update is kept for review",
    Kept.OVER_LIMIT: "this token may not write the document; over {limit} refused updates of this device this hour, "
                     "this one is not kept for review (the device keeps it)",
}


class AccessKeeper:
    """The access of one connection's links, kept current; ``deny`` ends a link and ``send`` queues a frame
    (the session's)."""

    def __init__(self, links: dict[str, Link], gate: AccessGate, rejections: Rejections, replies: Replies, *,
                 send: Callable[[bytes], None], deny: Deny, spawn: Callable[[Coroutine[Any, Any, None]], None]) -> None:
        self._links = links
        self._gate = gate
        self._rejections = rejections
        self._replies = replies
        self._send = send
        self._deny = deny
        self._spawn = spawn
        self._expiry: asyncio.TimerHandle | None = None
        self._expiry_at = 0.0
        self._order = asyncio.Lock()  # refused updates are kept, and their notices sent, in the order they came
        self._rejecting = 0

    def recheck(self, room: Room) -> None:
        """A field the access rules read changed in ``room``: every link on it gets its access decided again."""
        for link in list(self._links.values()):
            if link.room is not room or link.principal is None or link.state is not LinkState.AUTHENTICATED:
                continue
            access = self._gate.decide(link.principal, room)
            if access.scope is None:
                link.refused_for = link.principal
                self._deny(link, AuthError(ErrorCode.ACCESS_REVOKED, "this token may no longer open the document"))
            elif access.scope is not link.scope:
                link.scope, link.access = access.scope, access
                self._send(encode_frame(Authenticated(link.name, access.scope.value)))
            else:
                link.access = access

    def expire_at(self, expires_at: float | None) -> None:
        """Watch a token that expires at ``expires_at`` (epoch seconds): its documents end then."""
        if expires_at is None:
            return
        if self._expiry is None or expires_at < self._expiry_at:
            if self._expiry is not None:
                self._expiry.cancel()
            self._expiry_at = expires_at
            loop = asyncio.get_running_loop()
            self._expiry = loop.call_later(max(0.0, expires_at - time.time()), self.expire_links)

    def expire_links(self) -> None:
        """End every document whose token has expired; the socket stays for a fresh Auth."""
        self._expiry = None
        now = time.time()
        later = []
        for link in list(self._links.values()):
            if link.state is not LinkState.AUTHENTICATED:
                continue
            if link.expired(now):
                self._deny(link, AuthError(ErrorCode.TOKEN_EXPIRED, "the token has expired: authenticate again"))
            elif link.principal is not None and link.principal.expires_at is not None:
                later.append(link.principal.expires_at)
        if later:
            self.expire_at(min(later))

    def refused(self, link: Link, frame: Frame) -> None:
        """A frame of a document that is not authenticated: an update of a token refused access is kept for review.

        Its ``SyncStatus(false)`` takes its place among the connection's acknowledgements at once, and is sent,
        after a notice saying what became of the update, once it is stored for review (or could not be).
        """
        principal = link.refused_for
        if principal is None or not isinstance(frame, Sync) or frame.step is SyncStep.STEP1:
            self._replies.refuse(frame, AuthError(ErrorCode.NOT_AUTHENTICATED, "document is not authenticated on this connection"))
            return
        if self._rejecting >= MAX_REJECTING:  # the store is slow: the device sends it again later
            self._replies.refuse(frame, LimitExceeded(ErrorCode.RATE_LIMITED, "too many refused updates waiting to be kept for review", retry_after=1.0))
            return
        settled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._replies.ack(link.name, settled)
        self._rejecting += 1
        self._spawn(self._reject(link.name, principal, frame.data, settled))

    async def _reject(self, name: str, principal: Principal, update: bytes, settled: asyncio.Future[None]) -> None:
        try:
            async with self._order:
                kept = await self._rejections.keep(principal, name, update)
        finally:
            self._rejecting -= 1
        if kept is Kept.STORE_FAILED:  # a passing refusal: the device sends it again
            settled.set_exception(StoreError("the refused update could not be kept for review; send it again later"))
            return
        settled.set_exception(AuthError(ErrorCode.WRITE_REJECTED, _KEPT[kept].format(limit=self._rejections.per_hour)))

    def close(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
