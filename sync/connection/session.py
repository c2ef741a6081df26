"""One WebSocket connection: many documents multiplexed, each authenticated on its own.

Reading is serial: ``receive`` handles one frame at a time and never waits, except that a document's
authentication (token check, room load) runs as a task while that document's later frames are held.
Every outgoing frame goes through one bounded queue drained by the writer task, so a slow socket never
blocks a room; a socket that falls too far behind is closed and resyncs when it reconnects.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from sync.access import Access, Principal, role_scope
from sync.documents.room import Room
from sync.protocol.codes import CloseCode, ErrorCode
from sync.errors import AuthError, FieldsyncError, LimitExceeded, ProtocolError, StoreError
from sync.connection.access_keeper import AccessKeeper
from sync.connection.admission import Ticket
from sync.connection.broadcast import relay_broadcast
from sync.connection.held import MAX_DOCUMENT_NAME_CHARS, HeldBytes
from sync.connection.host import SessionHost
from sync.connection.presence import receive_awareness
from sync.documents.awareness import AwarenessBudget
from sync.connection.link import Link, LinkState
from sync.connection.outlet import ConnectionState, Outlet, Transport
from sync.protocol import (
        Authenticated, Awareness, AuthToken, BroadcastStateless, Close, Frame, Ping, Pong, QueryAwareness,
    Stateless, Sync, SyncStep, decode_frame, encode_frame,
)
from sync.protocol.control import SCOPES_DOCUMENT, decode_control
from sync.connection.replies import Replies
from sync.connection.undecoded import frame_header, refuse_undecoded
from sync.connection.scope_channel import ScopeChannel

PING = encode_frame(Ping())
PONG = encode_frame(Pong())

Receive = Callable[[], Awaitable[bytes | str | None]]


class Session:
    """The hub side of one connection."""

    def __init__(self, hub: SessionHost, transport: Transport, *, ticket: Ticket | None = None) -> None:
        self.hub = hub
        self.config = hub.config
        self.outlet = Outlet(transport, queue_limit=hub.config.send_queue_frames, byte_limit=hub.config.send_queue_bytes)
        #: This connection's place among its address's unauthenticated ones, given back at its first Auth.
        self.ticket = ticket
        self.awareness_budget = AwarenessBudget(hub.config.max_awareness_bytes_per_connection)
        self.replies = Replies(self.outlet.send, on_refusal=lambda name, code: hub.hooks.refusal_sent(self, name, code))
        self.links: dict[str, Link] = {}
        self.principal: Principal | None = None
        self.bucket = hub.device_limits.new_bucket()
        self.control_bucket = hub.control_limits.new_bucket()
        self.scopes = ScopeChannel(
            hub.scopes, self, self.replies, allowed=lambda: self._control_allowed(SCOPES_DOCUMENT), spawn=self._spawn,
            limit=hub.config.max_scopes_per_connection,
        )
        self._held = HeldBytes(hub.config.max_held_bytes, hub.config.max_held_bytes_authenticated)
        self._group: asyncio.TaskGroup | None = None
        self.access = AccessKeeper(self.links, hub.gate, hub.rejections, self.replies, send=self.send,
                                   deny=self._deny, spawn=self._spawn)

    # -- lifecycle ---------------------------------------------------------------------------------

    async def run(self, receive: Receive) -> None:
        """Serve the connection until the peer leaves or the session is closed."""
        self.hub.sessions.add(self)
        self.hub.hooks.connection_opened(self)
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                writer = group.create_task(self.outlet.run())
                watchdog = group.create_task(self._watchdog())
                try:
                    while self.outlet.open:
                        data = await receive()
                        if data is None:
                            break
                        if isinstance(data, str):
                            self._close(CloseCode.UNSUPPORTED_DATA, ErrorCode.UNSUPPORTED_MESSAGE, "only binary frames are accepted")
                            break
                        self.receive(data)
                finally:
                    watchdog.cancel()
                    if self.outlet.open:  # the peer left: nothing more to send
                        self.outlet.peer_left()
                        writer.cancel()
        finally:
            if self.ticket is not None:
                self.ticket.release()
            self.access.close()
            self.outlet.peer_left()
            self.scopes.close()
            for link in self.links.values():
                if link.room is not None:
                    link.room.leave(self)
            self.links.clear()
            self.hub.sessions.discard(self)
            self.hub.hooks.connection_closed(self)

    @property
    def state(self) -> ConnectionState:
        return self.outlet.state

    async def close(self, code: int, reason: str) -> None:
        """Send what is queued, then close the socket with ``code``."""
        await self.outlet.close(code, reason)

    async def _watchdog(self) -> None:
        """Close a connection that never authenticates; ping one that has been sent nothing for a while."""
        loop = asyncio.get_running_loop()
        auth_deadline = loop.time() + self.config.auth_timeout_seconds
        interval = self.config.ping_interval_seconds
        while self.outlet.open:
            wait = interval if self.principal else min(interval, auth_deadline - loop.time())
            await asyncio.sleep(max(0.0, wait))
            if self.principal is None and loop.time() >= auth_deadline:
                self._close(CloseCode.CONNECTION_TIMEOUT, "auth_timeout", "no document was authenticated in time", prefix=False)
                return
            if not self.outlet.sent_recently:
                self.send(PING)
            self.outlet.sent_recently = False

    def _refuse_undecoded(self, data: bytes, code: ErrorCode, reason: str) -> None:
        header = frame_header(data)
        if header is None:  # not even a document name: the whole socket goes
            self._close(CloseCode.MESSAGE_TOO_BIG if code is ErrorCode.FRAME_TOO_LARGE else CloseCode.BAD_FRAME, code, reason)
        else:
            refuse_undecoded(self.replies, header, code, reason)

    def _close(self, close_code: int, code: str, reason: str, *, prefix: bool = True) -> None:
        """Close the socket for a refusal of the whole connection, and tell the hooks which one."""
        self.hub.hooks.refusal_sent(self, "", str(code))
        self.outlet.begin_close(close_code, f"{code}: {reason}" if prefix else reason)

    def send(self, frame: bytes) -> None:
        """Queue one frame for this socket (never blocks): what a room calls on its subscribers."""
        self.outlet.send(frame)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        assert self._group is not None, "receive() runs inside run()"
        self._group.create_task(work)

    # -- incoming frames ---------------------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        """Handle one binary frame."""
        self.outlet.traffic.received(data)
        if not self.outlet.open or self.hub.closing:
            return  # not acknowledged, so the sender still holds it and sends it again after reconnecting
        if len(data) > self.config.max_frame_bytes:
            self._refuse_undecoded(data, ErrorCode.FRAME_TOO_LARGE, f"frame of {len(data)} bytes exceeds {self.config.max_frame_bytes}")
            return
        try:
            frame = decode_frame(data)
        except ProtocolError as exc:
            if exc.close_code is not None:
                self._close(exc.close_code, exc.code, exc.reason)
            else:
                self._refuse_undecoded(data, exc.code, exc.reason)
            return
        if isinstance(frame, (Ping, Pong)):
            if isinstance(frame, Ping):
                self.send(PONG)
            return
        wait = self.bucket.take()
        if wait:
            rate = self.config.messages_per_second
            self.replies.refuse(frame, LimitExceeded(ErrorCode.RATE_LIMITED, f"over {rate:g} messages/s for this device", retry_after=wait))
            return
        if len(frame.document) > MAX_DOCUMENT_NAME_CHARS:  # no record has such a name: nothing of it is kept
            self.replies.refuse(frame, AuthError(ErrorCode.INVALID_DOCUMENT_NAME, "document name is too long"))
            return
        if isinstance(frame, AuthToken):
            self.outlet.traffic.client(frame.client_version)
            self._auth(frame.document, frame.token)
            return
        link = self.links.get(frame.document)
        if link is None and frame.document == SCOPES_DOCUMENT:  # nothing to hold: no Auth of it is under way
            self.replies.refuse(frame, AuthError(ErrorCode.NOT_AUTHENTICATED, f"send an Auth for {SCOPES_DOCUMENT} first"))
            return
        if link is None:
            if len(self.links) >= self.config.max_documents_per_connection:
                self.replies.refuse(frame, LimitExceeded(ErrorCode.TOO_MANY_DOCUMENTS, f"at most {self.config.max_documents_per_connection} documents per connection"))
                return
            if not self._held.take(frame):  # it would be held: refused before it costs a link
                self._refuse_held(frame)
                return
            link = self.links[frame.document] = Link(frame.document)
            link.held.append(frame)
            return
        if link.state is LinkState.AUTHENTICATED and link.expired(time.time()):
            self.access.expire_links()
        if link.state is LinkState.AUTHENTICATED:
            self._handle(link, frame)
        elif link.state is LinkState.PENDING:
            self._hold(link, frame)
        else:
            self.access.refused(link, frame)

    def _hold(self, link: Link, frame: Frame) -> None:
        if len(link.held) >= self.config.pending_frames_per_document or not self._held.take(frame):
            self._refuse_held(frame)
            return
        link.held.append(frame)

    def _refuse_held(self, frame: Frame) -> None:
        limit = self._held.limit
        self.replies.refuse(frame, LimitExceeded(ErrorCode.QUEUE_FULL, f"too many frames (or over {limit} bytes) before authentication"))

    # -- authentication ----------------------------------------------------------------------------

    def _auth(self, name: str, token: str) -> None:
        link = self.links.get(name)
        if link is None:
            if len(self.links) >= self.config.max_documents_per_connection:
                limit = self.config.max_documents_per_connection
                self.replies.deny(name, LimitExceeded(ErrorCode.TOO_MANY_DOCUMENTS, f"at most {limit} documents per connection"))
                return
            link = self.links[name] = Link(name)
        if link.authenticating:
            return  # the answer to the Auth already in progress answers this one too
        if link.state is LinkState.DENIED:
            link.move(LinkState.PENDING)
        link.authenticating = True
        self._spawn(self._authenticate(link, token))

    async def _authenticate(self, link: Link, token: str) -> None:
        try:
            principal = await self.hub.verifier.verify(token)
            if self.principal is not None and principal.tenant != self.principal.tenant:
                raise AuthError(ErrorCode.TENANT_MISMATCH, "a connection serves one tenant")
            if principal.expires_at is not None and principal.expires_at <= time.time():
                raise AuthError(ErrorCode.TOKEN_EXPIRED, "the token has expired")
            if link.name == SCOPES_DOCUMENT:  # a control document: no record, no room
                access, room = Access(role_scope(principal)), None
            else:
                access, room = await self.hub.gate.open(principal, link.name)
        except (AuthError, StoreError) as exc:
            if isinstance(exc, AuthError) and exc.code in (ErrorCode.FORBIDDEN, ErrorCode.READONLY):
                link.refused_for = principal
            self._deny(link, exc)
            return
        finally:
            link.authenticating = False
        if not self.outlet.open:
            return
        if self.ticket is not None:
            self.ticket.release()  # authenticated: no longer counted against its address
        if self.principal is None:
            # from now on the device's shared budget applies, charged with what this socket already spent
            self.principal = principal
            self._held.authenticated()  # a verified device's reconnect may hold more step 1s than a stranger
            device_bucket = self.hub.device_limits.bucket(principal.tenant, principal.device)
            device_bucket.charge(self.bucket.used)
            control_bucket = self.hub.control_limits.bucket(principal.tenant, principal.device)
            control_bucket.charge(self.control_bucket.used)
            self.bucket, self.control_bucket = device_bucket, control_bucket
        if room is None:
            self.scopes.principal = principal
        elif link.room is None:
            link.room = room
            room.join(self)
        assert access.scope is not None, "the gate refuses no access with an AuthError"
        scope = access.scope
        link.scope, link.access, link.principal, link.refused_for = scope, access, principal, None
        link.move(LinkState.AUTHENTICATED)
        if self.outlet.open:
            self.access.expire_at(principal.expires_at)
        self.hub.hooks.document_authenticated(self, link.name, principal, scope)
        self.send(encode_frame(Authenticated(link.name, scope.value)))
        if room is not None and len(room.awareness):
            self.send(room.awareness_frame(room.awareness.snapshot()))
        self._release_held(link, lambda frame: self._handle(link, frame))

    def _deny(self, link: Link, exc: FieldsyncError) -> None:
        if link.room is not None:
            link.room.leave(self)
            link.room = None
        if link.name == SCOPES_DOCUMENT:
            self.scopes.close()
        link.scope = link.access = link.principal = None
        link.move(LinkState.DENIED)
        self.replies.deny(link.name, exc)
        self._release_held(link, lambda frame: self.access.refused(link, frame))

    def recheck(self, room: Room) -> None:
        """A field the access rules read changed in ``room`` (``sync.gate.AccessWatch``): see ``AccessKeeper``."""
        self.access.recheck(room)

    def _release_held(self, link: Link, handle: Callable[[Frame], None]) -> None:
        held, link.held = link.held, []
        self._held.give_back(held)
        for frame in held:
            handle(frame)

    # -- authenticated documents -------------------------------------------------------------------

    def _handle(self, link: Link, frame: Frame) -> None:
        if link.name == SCOPES_DOCUMENT:
            self.scopes.receive(frame)
            return
        room = link.room
        assert room is not None, "an authenticated link has a room"
        name = link.name
        match frame:
            case Sync(step=SyncStep.STEP1, data=state_vector, reply=reply):
                try:
                    step2, step1 = room.answer_step1(state_vector)
                except ProtocolError as exc:
                    self.replies.notice(name, exc)
                    return
                self.send(step2)
                if not reply:
                    self.send(step1)
            case Sync(data=update):
                self._write(link, update)
            case Awareness(data=data):
                receive_awareness(room, data, self, self.awareness_budget, self.replies)
            case QueryAwareness():
                self.send(room.awareness_frame(room.awareness.snapshot()))
            case Stateless(payload=payload):
                if self._control_allowed(name):
                    try:
                        decode_control(payload)
                    except ProtocolError as exc:
                        self.replies.notice(name, exc)
                        return
                    self.replies.notice(name, ProtocolError(ErrorCode.UNSUPPORTED_MESSAGE, "no control messages are served yet"))
            case BroadcastStateless(payload=payload):
                if self._control_allowed(name):
                    relay_broadcast(link, room, payload, self.replies)
            case Close():
                room.leave(self)
                del self.links[name]
            case _:
                self.replies.notice(name, ProtocolError(ErrorCode.UNSUPPORTED_MESSAGE, f"{type(frame).__name__} is not sent to the hub"))

    def _write(self, link: Link, update: bytes) -> None:
        assert link.principal is not None, "an authenticated link has a principal"
        self.hub.writes.write(link, update, link.principal, self, self.replies)  # the write path: sync.write

    def _control_allowed(self, name: str) -> bool:
        wait = self.control_bucket.take()
        if wait:
            limit = self.config.control_messages_per_minute
            self.replies.notice(name, LimitExceeded(ErrorCode.RATE_LIMITED, f"over {limit} control messages per minute", retry_after=wait))
        return not wait

