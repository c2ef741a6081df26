"""The ``$scopes`` control document of one connection: its subscribe and unsubscribe requests.

The session authenticates ``$scopes`` like any document and hands every later frame of it here. Only
Stateless control messages are served on it; a subscribe is answered by the scope service (a
``ScopeMembers``) or refused with an error notice naming the subscription.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from sync.access import Principal
from sync.protocol.codes import ErrorCode
from sync.errors import AuthError, FieldsyncError, LimitExceeded, ProtocolError, StoreError
from sync.protocol import Frame, Stateless
from sync.protocol.control import SCOPES_DOCUMENT, ErrorNotice, Hello, Subscribe, Unsubscribe, decode_control
from sync.connection.replies import Replies
from sync.scopes import ResolvedScope, ScopeService
from sync.protocol import Sender
from sync.scopes.subscription import Subscription

__all__ = ["MAX_SUBSCRIPTION_ID", "ScopeChannel"]

#: Longest ``Subscribe.id`` accepted (characters).
MAX_SUBSCRIPTION_ID = 200


class ScopeChannel:
    """Subscriptions of one connection, by the ids the device gave them."""

    def __init__(
        self,
        service: ScopeService,
        sink: Sender,
        replies: Replies,
        *,
        allowed: Callable[[], bool],
        spawn: Callable[[Coroutine[Any, Any, None]], object],
        limit: int,
    ) -> None:
        self.service = service
        self.principal: Principal | None = None
        """Who the latest successful Auth of ``$scopes`` named; new subscriptions act for them."""
        self.subscriptions: dict[str, Subscription] = {}
        self._sink = sink
        self._replies = replies
        self._allowed = allowed
        self._spawn = spawn
        self._limit = limit
        self._pending: dict[str, int] = {}  # id -> the request whose answer is still awaited
        self._requests = 0

    def receive(self, frame: Frame) -> None:
        """Handle one frame of the authenticated ``$scopes`` document."""
        if not isinstance(frame, Stateless):
            what = f"{type(frame).__name__} is not served on {SCOPES_DOCUMENT}: send control messages as Stateless"
            self._replies.refuse(frame, ProtocolError(ErrorCode.UNSUPPORTED_MESSAGE, what))
            return
        if not self._allowed():
            return
        try:
            message = decode_control(frame.payload)
        except ProtocolError as exc:
            self._replies.notice(SCOPES_DOCUMENT, exc)
            return
        match message:
            case Subscribe():
                self._subscribe(message)
            case Unsubscribe(id=id):
                self.drop(id)
            case Hello():
                pass  # nothing to answer; the client's name is for logs
            case _:
                what = f"{type(message).__name__} messages are sent by the hub, not to it"
                self._replies.notice(SCOPES_DOCUMENT, ProtocolError(ErrorCode.UNSUPPORTED_MESSAGE, what))

    def drop(self, id: str) -> None:
        """End subscription ``id`` and any subscribe of it still in progress (no answer)."""
        self._pending.pop(id, None)
        subscription = self.subscriptions.pop(id, None)
        if subscription is not None:
            self.service.remove(subscription)

    def close(self) -> None:
        """End every subscription of the connection."""
        self._pending.clear()
        for subscription in self.subscriptions.values():
            self.service.remove(subscription)
        self.subscriptions.clear()

    def _subscribe(self, request: Subscribe) -> None:
        id = request.id
        if not id or len(id) > MAX_SUBSCRIPTION_ID:
            self._refuse(id[:MAX_SUBSCRIPTION_ID], ProtocolError(
                ErrorCode.INVALID_CONTROL, f"a subscription id is 1-{MAX_SUBSCRIPTION_ID} characters"))
            return
        held = self.subscriptions.keys() | self._pending.keys()
        if id not in held and len(held) >= self._limit:
            self._refuse(id, LimitExceeded(ErrorCode.TOO_MANY_SCOPES, f"at most {self._limit} subscriptions per connection"))
            return
        assert self.principal is not None, "$scopes frames reach the channel only once it is authenticated"
        # A refused request replaces the subscription as an accepted one would: the id then follows nothing.
        self.drop(id)
        try:
            scope = self.service.resolve(self.principal, request.scope, request.params)
        except (ProtocolError, AuthError) as exc:
            self._refuse(id, exc)
            return
        self._requests += 1
        self._pending[id] = self._requests
        self._spawn(self._open(request, scope, self.principal, self._requests))

    async def _open(self, request: Subscribe, scope: ResolvedScope, principal: Principal, number: int) -> None:
        def accept(subscription: Subscription) -> bool:
            if self._pending.get(request.id) != number:
                return False  # unsubscribed, replaced or closed meanwhile
            del self._pending[request.id]
            self.subscriptions[request.id] = subscription
            return True

        try:
            await self.service.subscribe(request.id, self._sink, principal, scope, request.version, accept)
        except StoreError as exc:
            if self._pending.get(request.id) == number:
                del self._pending[request.id]
                self._refuse(request.id, exc)

    def _refuse(self, id: str, exc: FieldsyncError) -> None:
        retry_after = exc.retry_after if isinstance(exc, LimitExceeded) else None
        notice = ErrorNotice(code=str(exc.code), message=exc.reason, retry_after=retry_after, subscription=id)
        self._replies.notify(SCOPES_DOCUMENT, notice)
