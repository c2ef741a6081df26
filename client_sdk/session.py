"""One connection's worth of syncing: every followed document authenticated, exchanged and kept flushed.

Per document (a ``Link``): send ``Auth`` and our step 1; apply the hub's step 2; answer the hub's step 1
with our step 2, then send the outbox entries in order, one frame each (an entry already holds the edits
coalesced within its window; keeping entries apart lets the hub judge each status change in turn). At most
``max_inflight_per_document`` update frames of a document are unacknowledged at once.

Every step 2 and update we send is matched, in order per document, with the hub's ``SyncStatus``; outbox
entries leave the replica only on ``SyncStatus(true)`` for the frame that carried them. A refused entry is
sent again, and everything after it too, in order: the hub refuses an update with a gap in its history.
When the hub says the device is over its rate, every retry waits for the same moment, so retries come in
one paced wave instead of a storm.

Followed sync scopes go through the ``$scopes`` control document (``ScopeChannel``): the documents a scope
adds are opened on this connection at once, and those no longer followed are closed here (after their
unacknowledged edits, if any, are stored).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

from client_sdk.config import SyncConfig
from client_sdk.connection import Connection
from client_sdk.errors import AuthRejected, ReplicaError
from client_sdk.link import Link, LinkState, covers
from client_sdk.refusals import BLOCKING_CODES, PASSING_CODES, TOKEN_CODES
from client_sdk.replica import LocalReplica
from client_sdk.scope_channel import ScopeChannel
from client_sdk.scopes import ScopeChange
from client_sdk.state import Acknowledged, DocumentSynced, ErrorReported, SyncError, SyncEvent
from sync.protocol import (
    EMPTY_UPDATE, Authenticated, AuthToken, Close, Frame, PermissionDenied, ProtocolError, Stateless, Sync, SyncStatus,
    SyncStep,
)
from sync.protocol.codes import ErrorCode
from sync.protocol.control import SCOPES_DOCUMENT, ErrorNotice, decode_control

log = logging.getLogger(__name__)


class DeviceSession:
    """Sync over one open connection; ``run`` until the connection ends (``handle`` gets its frames)."""

    def __init__(self, conn: Connection, replica: LocalReplica, token: str, *, config: SyncConfig,
                 report: Callable[[SyncEvent], None], changed: Callable[[], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.conn = conn
        self.replica = replica
        self.token = token
        self.config = config
        self._clock = clock
        self._report = report
        self._changed = changed
        self.links: dict[str, Link] = {}
        self._synced: set[str] = set()
        self._to_open: set[str] = set()
        self._reopen: dict[str, float] = {}
        """Documents whose Auth was refused for a passing reason, and when to authenticate them again."""
        self._hold_until = 0.0
        """No retry (and no new frame but answers) before this time: the device was over its rate."""
        self._wake = asyncio.Event()
        self._acknowledging = False
        self._started = False
        """The documents followed when the connection opened have been opened."""
        self.scopes = ScopeChannel(conn, replica, token, config=config, clock=clock, report=report,
                                   wake=self._wake.set, changed=changed, open_documents=self._open,
                                   release_documents=self._release)

    # -- what the client asks ----------------------------------------------------------------------

    def all_synced(self) -> bool:
        return (self._started and not self._to_open and not self._reopen and self.scopes.settled()
                and len(self._synced) == len(self.links))

    def progress(self) -> tuple[int, int]:
        """Documents in sync on this connection, and documents it syncs (opened or about to be)."""
        return len(self._synced), len(self.links) + len(self._to_open) + len(self._reopen)

    def follow(self, name: str) -> None:
        """Open ``name`` on this connection (the run loop opens it)."""
        if name not in self.links:
            self._to_open.add(name)
            self._wake.set()
            self._changed()

    def scope_changed(self, change: ScopeChange) -> None:
        """A subscription was followed, unfollowed or changed (here or by the app): act on it on this connection."""
        if self.replica.scopes.get(change.subscription) is None:
            self.scopes.unfollow(change.subscription)
        else:
            self.scopes.follow(change.subscription)
        self._to_open.update(name for name in change.followed if name not in self.links)
        self._release(change.unfollowed)
        self._wake.set()
        self._changed()

    def outbox_changed(self, name: str) -> None:
        if self._acknowledging:
            return  # our own removal: ``handle`` reports the acknowledgement, then settles
        link = self.links.get(name)
        if link is not None:
            self._settle(link)
        elif self.replica.pending_count(name):
            self.follow(name)
        self._wake.set()

    # -- the loop --------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Open every followed document (and every one with unsent edits), then keep the outbox flowing."""
        self.scopes.start()
        await self._open([*self.replica.followed(), *self.replica.pending_documents(), *self._to_open])
        self._started = True
        self._changed()
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self._next_wake())
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
            now = self._clock()
            if now < self._hold_until:
                continue
            for name in [name for name, when in self._reopen.items() if when <= now]:
                del self._reopen[name]
                self._to_open.add(name)
            if self._to_open:
                await self._open(sorted(self._to_open))
            self.scopes.tick()
            for link in list(self.links.values()):
                if link.step1_at is not None and link.step1_at <= now:
                    link.step1_at = None
                    vector = (await self.replica.state_vectors([link.name]))[link.name]
                    self.conn.send(Sync(link.name, SyncStep.STEP1, vector))
                if link.retry_at is not None and link.retry_at <= now:
                    link.retry_at = None
                await self._flush(link)
                self._settle(link)

    def _next_wake(self) -> float | None:
        now = self._clock()
        if now < self._hold_until:
            return self._hold_until - now
        waits = [self.replica.seconds_to_seal(name) for name in self.links]
        waits += [at - now for link in self.links.values() for at in (link.retry_at, link.step1_at) if at is not None]
        waits += [when - now for when in self._reopen.values()]
        waits.append(self.scopes.next_wake())
        known = [wait for wait in waits if wait is not None]
        return max(0.0, min(known)) + 0.001 if known else None

    async def _open(self, names: Iterable[str]) -> None:
        names = [name for name in dict.fromkeys(names) if name not in self.links]
        if not names:
            return
        vectors = await self.replica.state_vectors(names)
        for name in names:
            if name in self.links:
                continue  # the await let another call open it meanwhile
            self.links[name] = Link(name)
            self.conn.send(AuthToken(name, self.token, self.config.client_name))
            self.conn.send(Sync(name, SyncStep.STEP1, vectors[name]))
            self._to_open.discard(name)
        self._changed()

    def _release(self, names: Iterable[str]) -> None:
        """Close the documents no longer followed, once nothing of theirs waits for the hub."""
        released = False
        for name in names:
            link = self.links.get(name)
            if self.replica.is_followed(name) or self.replica.pending_count(name) or (link and link.inflight):
                continue  # the edits go first: the acknowledgement of the last one releases it
            self._to_open.discard(name)
            self._reopen.pop(name, None)
            self._synced.discard(name)
            if link is not None:
                del self.links[name]
                self.conn.send(Close(name, ""))
            released = True
        if released:
            self._changed()

    # -- sending -------------------------------------------------------------------------------------

    def _may_send(self, link: Link) -> bool:
        return (link.answered and link.state in (LinkState.SYNCING, LinkState.SYNCED) and link.blocked is None
                and link.retry_at is None and self._clock() >= self._hold_until
                and link.updates_in_flight < self.config.max_inflight_per_document)

    async def _flush(self, link: Link) -> None:
        """Send the sealed entries not sent yet, oldest first, while the in-flight limit allows."""
        if not self._may_send(link) or self.replica.pending_count(link.name) <= link.updates_in_flight:
            return  # (the count is in memory: most wake-ups cost no query for most documents)
        for entry in await self.replica.sendable(link.name, link.last_sent):
            # the await let other work run: re-check, so an entry is never queued twice or out of order
            if entry.id <= link.last_sent:
                continue
            if not self._may_send(link):
                break
            self.conn.send(Sync(link.name, SyncStep.UPDATE, entry.update))
            link.inflight.append((entry.id,))
            link.last_sent = entry.id

    async def _answer(self, link: Link, hub_state_vector: bytes) -> None:
        """The hub's step 1: our step 2, then the outbox."""
        base = await self.replica.first_base(link.name)
        if base is None:
            base = (await self.replica.state_vectors([link.name]))[link.name]
        try:
            hub_has_base = covers(hub_state_vector, base)
        except ProtocolError:  # an undecodable vector
            hub_has_base = False
        # When the hub holds everything up to our oldest unacknowledged edit, the outbox entries that follow
        # bring it the rest: an empty step 2 says so without sending the edits twice.
        update = EMPTY_UPDATE if hub_has_base else await self.replica.missing_for(link.name, hub_state_vector)
        self.conn.send(Sync(link.name, SyncStep.STEP2, update))
        link.inflight.append(())
        link.answered = True
        await self._flush(link)

    def _settle(self, link: Link) -> None:
        if link.state not in (LinkState.SYNCING, LinkState.SYNCED) or self.links.get(link.name) is not link:
            return
        synced = link.synced and self.replica.pending_count(link.name) == 0
        new = LinkState.SYNCED if synced else LinkState.SYNCING
        if new is link.state:
            return
        link.state = new
        if synced:
            self._synced.add(link.name)
            self._report(DocumentSynced(link.name))
        else:
            self._synced.discard(link.name)
        self._changed()

    # -- receiving -----------------------------------------------------------------------------------

    async def handle(self, frame: Frame) -> None:
        """One frame from the hub, in arrival order."""
        document = getattr(frame, "document", "")
        if document == SCOPES_DOCUMENT:
            await self.scopes.handle(frame)
            return
        link = self.links.get(document)
        if link is None:
            return  # a document we did not open on this connection (or no longer follow)
        match frame:
            case Authenticated(scope=scope):
                if link.state is LinkState.AUTHENTICATING:
                    link.state, link.scope = LinkState.SYNCING, scope
            case PermissionDenied(reason=reason):
                self._denied(link, reason)
                return
            case Sync(step=SyncStep.STEP1, data=state_vector):
                await self._answer(link, state_vector)
            case Sync(step=step, data=update):
                try:
                    await self.replica.apply_remote(link.name, update)
                except ReplicaError as exc:
                    self._error("invalid_update", str(exc), link.name)
                    return
                if step is SyncStep.STEP2:
                    link.hub_step2 = True
            case SyncStatus(applied=applied):
                await self._status(link, applied)
            case Stateless(payload=payload):
                self._notice(link, payload)
            case _:
                pass  # awareness and the like: this SDK does not use them
        self._settle(link)
        if not self.replica.is_followed(link.name):
            self._release([link.name])  # it left its scopes while its edits were on their way: now they are stored

    def _denied(self, link: Link, reason: str) -> None:
        code = reason.partition(":")[0].strip()
        if code in TOKEN_CODES:
            raise AuthRejected(code, reason)
        self._error(code, reason, link.name)
        if code in PASSING_CODES:
            if code == ErrorCode.RATE_LIMITED:
                self._hold(None)
            # authenticate again later (its held step 1 is refused too)
            del self.links[link.name]
            self._synced.discard(link.name)
            self._reopen[link.name] = self._clock() + self.config.refusal_retry
            self._wake.set()
        else:
            link.state = LinkState.DENIED
            self._synced.discard(link.name)
            # ``forbidden`` is about one kind of document (a role-restricted companion) or, when every
            # document gets it, about the token's roles: then it is the token's refusal
            if code == ErrorCode.FORBIDDEN and not self._to_open and not self._reopen and all(
                    other.state is LinkState.DENIED for other in self.links.values()):
                raise AuthRejected(code, reason)
        self._changed()

    async def _status(self, link: Link, applied: bool) -> None:
        if not link.inflight:
            log.warning("unexpected SyncStatus for %s", link.name)
            return
        ids = link.inflight.popleft()
        if applied:
            if ids:
                self._acknowledging = True
                try:
                    removed = await self.replica.acknowledge(ids)
                finally:
                    self._acknowledging = False
                self._report(Acknowledged(link.name, tuple(removed)))
        elif ids:
            # the first refusal of a run: the entries after it are refused too (a gap) and go again with it
            link.first_refusal = min(ids) <= link.last_sent
            link.last_sent = min(link.last_sent, min(ids) - 1)
            link.retry_at = self._clock() + self.config.refusal_retry
        elif link.last_code in PASSING_CODES:  # our step 2, refused after a notice that came first
            link.restart_exchange(self._clock() + self.config.refusal_retry)
        else:
            link.step2_refused = True  # the notice that follows says whether trying again can help
        self._wake.set()

    def _notice(self, link: Link, payload: str) -> None:
        try:
            message = decode_control(payload)
        except ProtocolError:
            log.warning("undecodable control message for %s: %.200s", link.name, payload)
            return
        if not isinstance(message, ErrorNotice):
            return
        code = message.code
        if code == ErrorCode.NOT_AUTHENTICATED and link.state is LinkState.DENIED:
            return  # our held step 1, refused because the Auth was: the denial already said why
        self._error(code, message.message, link.name)
        link.last_code = code
        if code == ErrorCode.RATE_LIMITED:
            self._hold(message.retry_after)
        if code in BLOCKING_CODES:
            link.blocked = code
        elif code == ErrorCode.MISSING_DEPENDENCIES and link.first_refusal:
            # the hub lacks changes older than our unacknowledged ones: a new exchange brings them first
            link.restart_exchange(self._clock() + self.config.refusal_retry)
        elif code in PASSING_CODES and (link.step2_refused or not link.answered):
            # our step 2 was refused, or (before the hub's step 1 came) our step 1: exchange again
            link.restart_exchange(self._clock() + (message.retry_after or self.config.refusal_retry))
        self._wake.set()

    def _hold(self, retry_after: float | None) -> None:
        """Over the device's rate: every document waits, then the retries go out together."""
        self._hold_until = max(self._hold_until, self._clock() + max(retry_after or 0.0, self.config.refusal_retry))

    def _error(self, code: str, message: str, document: str | None) -> None:
        self._report(ErrorReported(SyncError(code=code, message=message, document=document)))
