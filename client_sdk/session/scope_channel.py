"""The ``$scopes`` control document on one connection: subscriptions sent, answers applied, refusals kept.

Once some scope is followed, the channel authenticates ``$scopes`` like a document and, when the hub has
answered ``Authenticated``, sends one ``Subscribe`` per followed scope with the membership version the
replica holds. Every ``ScopeMembers`` the hub sends (the answer, then live changes) is stored by the replica
in one transaction; the documents it adds are opened at once, all of them in one go, and the documents no
longer followed are released. A refusal that cannot change on this connection (``forbidden``,
``unknown_scope``, ``invalid_scope_params``, ``too_many_scopes``, or a code this client does not know) is
reported and not tried again until the next connection; one that passes (``rate_limited``) is tried again
after the ``retry_after`` the hub gave.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import Enum

from client_sdk.errors import AuthRejected
from client_sdk.session.context import SessionContext
from client_sdk.session.refusals import PASSING_CODES, TOKEN_CODES, denial_code
from client_sdk.state import ScopeUpdated
from sync.protocol import Authenticated, AuthToken, Frame, PermissionDenied, ProtocolError, Stateless
from sync.protocol.control import (
    SCOPES_DOCUMENT, ErrorNotice, ScopeMembers, Subscribe, Unsubscribe, decode_control, encode_control,
)

log = logging.getLogger(__name__)


class ChannelState(Enum):
    IDLE = "idle"
    """Nothing followed when the connection started: no Auth sent yet."""
    AUTHENTICATING = "authenticating"
    READY = "ready"
    WAITING = "waiting"
    """The Auth was refused for a passing reason: it goes again at ``retry_at``."""
    DENIED = "denied"
    """The Auth was refused for good on this connection: no subscription can be served."""


#: Every move the channel may make, in one place (``ScopeChannel._move``); a refused Auth may come at any time.
CHANNEL_TRANSITIONS: dict[ChannelState, frozenset[ChannelState]] = {
    ChannelState.IDLE: frozenset({ChannelState.AUTHENTICATING}),
    ChannelState.AUTHENTICATING: frozenset({ChannelState.READY, ChannelState.WAITING, ChannelState.DENIED}),
    ChannelState.READY: frozenset({ChannelState.WAITING, ChannelState.DENIED}),
    ChannelState.WAITING: frozenset({ChannelState.AUTHENTICATING, ChannelState.WAITING, ChannelState.DENIED}),
    ChannelState.DENIED: frozenset({ChannelState.WAITING, ChannelState.DENIED}),
}


class SubscriptionState(Enum):
    QUEUED = "queued"
    """To send once the channel is ready (and ``retry_at`` has come)."""
    SENT = "sent"
    CURRENT = "current"
    """The hub answered with the members; live changes follow."""
    REFUSED = "refused"
    """Refused for a reason this connection cannot cure."""


@dataclass(slots=True)
class _Subscription:
    state: SubscriptionState = SubscriptionState.QUEUED
    retry_at: float | None = None


class ScopeChannel:
    """``$scopes`` on one connection. The session routes its frames here and asks it when it is settled."""

    def __init__(self, ctx: SessionContext, *, open_documents: Callable[[Iterable[str]], Awaitable[None]],
                 release_documents: Callable[[Iterable[str]], None]) -> None:
        self.ctx = ctx
        self.replica = ctx.replica
        self._open_documents = open_documents
        self._release_documents = release_documents
        self.state = ChannelState.IDLE
        self.retry_at: float | None = None
        self.token: str | None = None
        """The token of the latest Auth of ``$scopes``."""
        self.subscriptions: dict[str, _Subscription] = {}

    # -- what the session asks ----------------------------------------------------------------------

    def start(self) -> None:
        """Subscribe to every followed scope (authenticating ``$scopes`` first)."""
        for sub in self.replica.scopes.subscriptions():
            self.follow(sub.id)

    def follow(self, id: str) -> None:
        """Subscribe ``id`` on this connection (a no-op when it is already)."""
        if id in self.subscriptions:
            return
        self.subscriptions[id] = _Subscription()
        if self.state is ChannelState.IDLE:
            self._authenticate()
        elif self.state is ChannelState.READY:
            self._send_due()

    def unfollow(self, id: str) -> None:
        sub = self.subscriptions.pop(id, None)
        if sub is not None and self.state is ChannelState.READY and sub.state is not SubscriptionState.QUEUED:
            self._send(Unsubscribe(id=id))

    def settled(self) -> bool:
        """Whether every subscription has its answer (members or a refusal) on this connection."""
        if self.state is ChannelState.DENIED:
            return True
        return all(sub.state in (SubscriptionState.CURRENT, SubscriptionState.REFUSED)
                   for sub in self.subscriptions.values())

    def next_wake(self) -> float | None:
        """Seconds until something is due: an Auth or a Subscribe to send again."""
        due = [self.retry_at] if self.state is ChannelState.WAITING else []
        if self.state is ChannelState.READY:
            due += [sub.retry_at for sub in self.subscriptions.values() if sub.retry_at is not None]
        known = [at for at in due if at is not None]
        return max(0.0, min(known) - self.ctx.clock()) if known else None

    def tick(self) -> None:
        """Send what is due."""
        if self.state is ChannelState.WAITING and self.retry_at is not None and self.retry_at <= self.ctx.clock():
            self._authenticate()
        elif self.state is ChannelState.READY:
            self._send_due()

    def _move(self, state: ChannelState, *, retry_at: float | None = None) -> None:
        if state not in CHANNEL_TRANSITIONS[self.state]:
            raise RuntimeError(f"{SCOPES_DOCUMENT}: {self.state.value} -> {state.value} is not a transition")
        self.state, self.retry_at = state, retry_at

    # -- sending -------------------------------------------------------------------------------------

    def _authenticate(self) -> None:
        self._move(ChannelState.AUTHENTICATING)
        self._send_token()

    def _send_token(self) -> None:
        self.token = self.ctx.token()
        self.ctx.conn.send(AuthToken(SCOPES_DOCUMENT, self.token, self.ctx.config.client_name))

    def reauthenticate(self) -> None:
        """A new token: authenticate ``$scopes`` again with it (the subscriptions stay; an Auth under way is
        answered first, then this one goes)."""
        if self.state is ChannelState.READY and self.token != self.ctx.token():
            self._send_token()

    def _send_due(self) -> None:
        now = self.ctx.clock()
        for id, sub in self.subscriptions.items():
            if sub.state is not SubscriptionState.QUEUED or (sub.retry_at is not None and sub.retry_at > now):
                continue
            stored = self.replica.scopes.get(id)
            if stored is None:  # unfollowed meanwhile (the session drops it too)
                continue
            sub.state, sub.retry_at = SubscriptionState.SENT, None
            self._send(Subscribe(id=id, scope=stored.scope, params=stored.params, version=stored.version))

    def _send(self, message: Subscribe | Unsubscribe) -> None:
        self.ctx.conn.send(Stateless(SCOPES_DOCUMENT, encode_control(message)))

    # -- receiving -----------------------------------------------------------------------------------

    async def handle(self, frame: Frame) -> None:
        """One frame on ``$scopes``; then the session looks again at whether everything is in sync."""
        await self._handle(frame)
        self.ctx.wake.set()
        self.ctx.changed()

    async def _handle(self, frame: Frame) -> None:
        match frame:
            case Authenticated():
                if self.state is ChannelState.AUTHENTICATING:
                    self._move(ChannelState.READY)
                    self._send_due()
                    self.reauthenticate()  # the token changed while its Auth was on its way
            case PermissionDenied(reason=reason):
                self._denied(reason)
            case Stateless(payload=payload):
                try:
                    message = decode_control(payload)
                except ProtocolError:
                    log.warning("undecodable control message on %s: %.200s", SCOPES_DOCUMENT, payload)
                    return
                match message:
                    case ScopeMembers():
                        await self._members(message)
                    case ErrorNotice():
                        self._refused(message)
            case _:
                pass

    def _denied(self, reason: str) -> None:
        code = denial_code(reason)
        if code in TOKEN_CODES:
            raise AuthRejected(code, reason)
        self._error(code, reason, None)
        if code in PASSING_CODES:
            self._move(ChannelState.WAITING, retry_at=self.ctx.clock() + self.ctx.config.refusal_retry)
        else:
            self._move(ChannelState.DENIED)
        for sub in self.subscriptions.values():  # whatever was sent went unheard
            sub.state, sub.retry_at = SubscriptionState.QUEUED, None

    async def _members(self, message: ScopeMembers) -> None:
        change = await self.replica.apply_scope_members(message.id, message.version, members=message.members,
                                                        added=message.added, removed=message.removed)
        if change is None:
            return  # a subscription unfollowed meanwhile
        sub = self.subscriptions.get(message.id)
        if sub is not None:
            sub.state, sub.retry_at = SubscriptionState.CURRENT, None
        self.ctx.report(ScopeUpdated(subscription=message.id, scope=message.scope, version=message.version,
                                  added=change.added, removed=change.removed, complete=message.members is not None))
        await self._open_documents(change.followed)  # every Auth and step 1 at once, before any answer
        self._release_documents(change.unfollowed)

    def _refused(self, notice: ErrorNotice) -> None:
        self._error(notice.code, notice.message, notice.subscription)
        if notice.subscription is not None:
            sub = self.subscriptions.get(notice.subscription)
            concerned = [sub] if sub is not None else []
        else:  # about our control messages in general: every one still unanswered
            concerned = [sub for sub in self.subscriptions.values() if sub.state is SubscriptionState.SENT]
        for sub in concerned:
            if notice.code in PASSING_CODES:
                wait = notice.retry_after if notice.retry_after is not None else self.ctx.config.refusal_retry
                sub.state, sub.retry_at = SubscriptionState.QUEUED, self.ctx.clock() + wait
            else:  # not served any more, if it was
                sub.state = SubscriptionState.REFUSED

    def _error(self, code: str, message: str, subscription: str | None) -> None:
        self.ctx.error(code, message, document=SCOPES_DOCUMENT, subscription=subscription)
