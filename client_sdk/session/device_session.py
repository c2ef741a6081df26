"""One connection's worth of syncing: every followed document authenticated, exchanged and kept flushed.

Per document (a ``Link``, whose state says where it stands): send ``Auth`` and our step 1; apply the hub's
step 2; answer the hub's step 1 with our step 2, then send the outbox entries in order, one frame each (an
entry already holds the edits coalesced within its window; keeping entries apart lets the hub judge each
status change in turn). At most ``max_inflight_per_document`` update frames of a document are unacknowledged
at once.

Every step 2 and update we send is matched, in order per document, with the hub's ``SyncStatus``; entries
leave the replica only on ``SyncStatus(true)``. A refused entry is sent again with everything after it, in
order (the hub refuses an update with a gap); over the rate, every retry waits for the same moment.

Data flows one way: a local edit reaches the session through ``outbox_changed``; an acknowledgement goes
from here to the replica, which does not call back.

A document refused ``forbidden`` or ``access_revoked`` goes to ``RejectedWrites`` (``rejecting``). A new
token authenticates every served document again on this socket (``reauthenticate``); nothing is re-sent.

Followed sync scopes go through the ``$scopes`` control document (``ScopeChannel``): the documents a scope
adds are opened on this connection at once, and those no longer followed are closed here (after their
unacknowledged edits, if any, are stored).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from client_sdk.errors import AuthRejected, DeviceRevoked, ReplicaError
from client_sdk.replica import ScopeChange
from client_sdk.session.context import SessionContext
from client_sdk.session.link import CLOSED, FLOWING, SERVED, TRANSITIONS, UNANSWERED, Link, LinkState, Refused, covers
from client_sdk.session.opening import Opening
from client_sdk.session.refusals import BLOCKING_CODES, PASSING_CODES, TOKEN_CODES, denial_code
from client_sdk.session.rejecting import LOST_ACCESS_CODES, RejectedWrites
from client_sdk.session.scope_channel import ChannelState, ScopeChannel
from client_sdk.state import DocumentSynced, SyncError
from sync.protocol import EMPTY_UPDATE, Authenticated, AuthToken, Close, Frame, PermissionDenied, ProtocolError
from sync.protocol import Stateless, Sync, SyncStatus, SyncStep
from sync.protocol.codes import ErrorCode
from sync.protocol.control import SCOPES_DOCUMENT, ErrorNotice, decode_control

log = logging.getLogger(__name__)


class DeviceSession:
    """Sync over one open connection; ``run`` until the connection ends (``handle`` gets its frames)."""

    def __init__(self, ctx: SessionContext) -> None:
        self.ctx = ctx
        self.replica = ctx.replica
        self.links: dict[str, Link] = {}
        self._hold_until = 0.0
        """No retry (and no new frame but answers) before this time: the device was over its rate."""
        self._started = False
        """The documents followed when the connection opened have been opened."""
        self.scopes = ScopeChannel(ctx, open_documents=self._open, release_documents=self._release)
        self.rejecting = RejectedWrites(ctx, may_send=self._may_send)
        self.accepted = False  # the hub accepted the token for some document on this connection
        self.opening = Opening(ctx.config.held_before_auth_bytes)  # how many documents open before that

    # -- what the client asks ----------------------------------------------------------------------

    def all_synced(self) -> bool:
        return (self._started and self.scopes.settled()
                and all(link.state is LinkState.SYNCED for link in self.links.values()))

    def progress(self) -> tuple[int, int]:
        """Documents in sync on this connection, and documents it syncs (opened or about to be)."""
        return sum(link.state is LinkState.SYNCED for link in self.links.values()), len(self.links)

    def unsynced(self) -> dict[str, LinkState]:
        """Documents not in sync on this connection, and where each stands."""
        return {name: link.state for name, link in sorted(self.links.items()) if link.state is not LinkState.SYNCED}

    def refused(self) -> list[SyncError]:
        """Documents the hub refused for good on this connection: syncing them cannot complete here."""
        return [SyncError(code=link.error[0], message=link.error[1], document=name) for name, link in
                sorted(self.links.items()) if link.state in (LinkState.DENIED, LinkState.REJECTING) and link.error]

    def follow(self, name: str) -> None:
        """Open ``name`` on this connection (the run loop opens it)."""
        if name not in self.links:
            self._queue([name])
            self.ctx.wake.set()
            self.ctx.changed()

    def scope_changed(self, change: ScopeChange) -> None:
        """A subscription was followed, unfollowed or changed (here or by the app): act on it on this connection."""
        if self.replica.scopes.get(change.subscription) is None:
            self.scopes.unfollow(change.subscription)
        else:
            self.scopes.follow(change.subscription)
        self._queue(change.followed)
        self._release(change.unfollowed)
        self.ctx.wake.set()
        self.ctx.changed()

    def reauthenticate(self) -> None:
        """The client has a new token: every document served under an older one is authenticated again with it.

        The hub answers ``Authenticated`` and keeps each document's exchange, so nothing is sent again; a
        document whose Auth is still on its way is authenticated again once it is answered.
        """
        for link in self.links.values():
            if link.state in SERVED and link.token != self.ctx.token():
                self._send_auth(link)
        self.scopes.reauthenticate()

    def _send_auth(self, link: Link) -> None:
        link.token = self.ctx.token()
        self.ctx.conn.send(AuthToken(link.name, link.token, self.ctx.config.client_name))

    def outbox_changed(self, name: str) -> None:
        """A local edit of ``name`` went into the outbox."""
        link = self.links.get(name)
        if link is not None:
            self._settle(link)
        elif self.replica.pending_count(name):
            self.follow(name)
        self.ctx.wake.set()

    # -- the loop --------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Open every followed document (and every one with unsent edits), then keep the outbox flowing."""
        self.scopes.start()
        await self._open([*self.replica.followed(), *self.replica.pending_documents()])
        self._started = True
        self.ctx.changed()
        wake = self.ctx.wake
        while True:
            try:
                await asyncio.wait_for(wake.wait(), self._next_wake())
            except asyncio.TimeoutError:
                pass
            wake.clear()
            now = self.ctx.clock()
            if now < self._hold_until:
                continue
            for link in self.links.values():
                if link.state is LinkState.REOPENING and link.is_due(now):
                    link.move(LinkState.QUEUED)
            await self._open(())
            self.scopes.tick()
            for link in list(self.links.values()):
                if link.state is LinkState.RESTARTING and link.is_due(now):
                    await self._restart(link)
                elif link.state is LinkState.PAUSED and link.is_due(now):
                    link.move(LinkState.SENDING)
                await self._flush(link)
                self._settle(link)

    def _next_wake(self) -> float | None:
        now = self.ctx.clock()
        if now < self._hold_until:
            return self._hold_until - now
        waits = [self.replica.seconds_to_seal(name) for name in self.links]
        waits += [link.due - now for link in self.links.values() if link.due is not None]
        waits.append(self.scopes.next_wake())
        known = [wait for wait in waits if wait is not None]
        return max(0.0, min(known)) + 0.001 if known else None

    def _queue(self, names: Iterable[str]) -> None:
        for name in names:
            self.links.setdefault(name, Link(name))

    async def _open(self, names: Iterable[str]) -> None:
        """Queue ``names``, then send the Auth and step 1 of every queued document the hub may hold, in one go."""
        self._queue(names)
        queued = [name for name, link in self.links.items() if link.state is LinkState.QUEUED]
        if not queued:
            return
        vectors = await self.replica.state_vectors(queued)
        queued = [name for name in queued if (link := self.links.get(name)) and link.state is LinkState.QUEUED]
        for name in self.opening.choose(queued, vectors):  # the await let another call open or release some
            link = self.links[name]
            link.move(LinkState.AUTHENTICATING)
            self._send_auth(link)
            self.ctx.conn.send(Sync(name, SyncStep.STEP1, vectors[name]))
        self.ctx.changed()

    async def _restart(self, link: Link) -> None:
        """Our step 1 again: the hub answers with its step 2 and step 1, we with our step 2."""
        vector = (await self.replica.state_vectors([link.name]))[link.name]
        if self.links.get(link.name) is link and link.state is LinkState.RESTARTING:
            link.move(LinkState.EXCHANGING)
            self.ctx.conn.send(Sync(link.name, SyncStep.STEP1, vector))

    def _release(self, names: Iterable[str]) -> None:
        """Close the documents no longer followed, once nothing of theirs waits for the hub."""
        released = False
        for name in names:
            link = self.links.get(name)
            if link is None or self.replica.is_followed(name) or self.replica.pending_count(name) or link.inflight:
                continue  # the edits go first: the acknowledgement of the last one releases it
            del self.links[name]
            if link.state not in CLOSED | {LinkState.DENIED, LinkState.REJECTING}:
                self.ctx.conn.send(Close(name, ""))
            released = True
        if released:
            self.ctx.changed()

    # -- sending -------------------------------------------------------------------------------------

    def _may_send(self, link: Link) -> bool:
        return ((link.state in FLOWING or (link.state is LinkState.REJECTING and self.accepted))
                and self.ctx.clock() >= self._hold_until
                and link.updates_in_flight < self.ctx.config.max_inflight_per_document)

    async def _flush(self, link: Link) -> None:
        """Send the sealed entries not sent yet, oldest first, while the in-flight limit allows."""
        if link.state is LinkState.REJECTING:
            await self.rejecting.flush(link)
            return
        if not self._may_send(link) or self.replica.pending_count(link.name) <= link.updates_in_flight:
            return  # (the count is in memory: most wake-ups cost no query for most documents)
        for entry in await self.replica.sendable(link.name, link.last_sent):
            # the await let other work run: re-check, so an entry is never queued twice or out of order
            if entry.id <= link.last_sent:
                continue
            if not self._may_send(link):
                break
            self.ctx.conn.send(Sync(link.name, SyncStep.UPDATE, entry.update))
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
        self.ctx.conn.send(Sync(link.name, SyncStep.STEP2, update))
        link.inflight.append(())
        if link.state is LinkState.EXCHANGING:
            link.move(LinkState.ANSWERED)
        elif link.state is LinkState.CAUGHT_UP:
            await self._exchanged(link)

    async def _exchanged(self, link: Link) -> None:
        link.move(LinkState.SENDING)
        await self._flush(link)

    def _settle(self, link: Link) -> None:
        if link.state not in FLOWING or self.links.get(link.name) is not link:
            return
        synced = not link.inflight and self.replica.pending_count(link.name) == 0
        new = LinkState.SYNCED if synced else LinkState.SENDING
        if new is link.state:
            return
        link.move(new)
        if synced:
            self.ctx.report(DocumentSynced(link.name))
        self.ctx.changed()

    # -- receiving -----------------------------------------------------------------------------------

    async def handle(self, frame: Frame) -> None:
        """One frame from the hub, in arrival order."""
        document = getattr(frame, "document", "")
        if isinstance(frame, Authenticated) and not self.accepted:
            self.accepted = True  # a good token: the documents refused ``forbidden`` are about their records
            self.ctx.wake.set()
        if self.opening.answered(frame):
            self.ctx.wake.set()  # an Auth answered: the hub holds less for this socket, the loop opens more
        if document == SCOPES_DOCUMENT:
            await self.scopes.handle(frame)
            return
        link = self.links.get(document)
        if link is None or link.state in CLOSED or link.state is LinkState.DENIED:
            return  # not open on this connection (any more): what comes is the end of an earlier exchange
        match frame:
            case Authenticated():
                if link.state is LinkState.AUTHENTICATING:
                    link.move(LinkState.EXCHANGING)
                    if link.token != self.ctx.token():  # a new token came while this Auth was on its way
                        self._send_auth(link)
            case PermissionDenied(reason=reason):
                self._denied(link, reason)
                return
            case _ if link.state is LinkState.REJECTING:
                await self.rejecting.handle(link, frame, read_notice=lambda payload: self._notice(link, payload))
            case Sync(step=SyncStep.STEP1, data=state_vector):
                await self._answer(link, state_vector)
            case Sync(step=step, data=update):
                try:
                    await self.replica.apply_remote(link.name, update)
                except ReplicaError as exc:
                    self.ctx.error("invalid_update", str(exc), document=link.name)
                    return
                if step is SyncStep.STEP2 and link.state is LinkState.EXCHANGING:
                    link.move(LinkState.CAUGHT_UP)
                elif step is SyncStep.STEP2 and link.state is LinkState.ANSWERED:
                    await self._exchanged(link)
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
        code = denial_code(reason)
        if code in TOKEN_CODES:
            raise AuthRejected(code, reason)
        if code == ErrorCode.DEVICE_REVOKED:
            raise DeviceRevoked(reason)  # the connection ends; the client comes back after its backoff
        self.ctx.error(code, reason, document=link.name)
        if link.state is LinkState.REJECTING:
            pass  # refused already: its entries go on to the review queue
        elif code in LOST_ACCESS_CODES:
            self.rejecting.start(link, code, reason)
            self._all_refused()
        elif code in PASSING_CODES:
            if code == ErrorCode.RATE_LIMITED:
                self._hold(None)
            # authenticate again later (its held step 1 is refused too)
            link.move(LinkState.REOPENING, due=self.ctx.clock() + self.ctx.config.refusal_retry)
            self.ctx.wake.set()
        else:
            link.error = (code, reason)
            link.move(LinkState.DENIED)
        self.ctx.changed()

    def _all_refused(self) -> None:
        if self.accepted or self.scopes.state not in (ChannelState.IDLE, ChannelState.DENIED):
            return  # a good token (or one the hub has not answered for every document yet)
        if (refusal := self.rejecting.all_forbidden(self.links.values())) is not None:
            raise AuthRejected(ErrorCode.FORBIDDEN, refusal)  # every document forbidden: the token's roles

    async def _status(self, link: Link, applied: bool) -> None:
        if not link.inflight:
            log.warning("unexpected SyncStatus for %s", link.name)
            return
        ids = link.inflight.popleft()
        if applied:
            await self.ctx.acknowledged(link.name, ids)
        elif ids:
            # the first refusal of a run: the entries after it are refused too (a gap) and go again with it
            link.refused = Refused.FIRST_ENTRY if min(ids) <= link.last_sent else Refused.LATER_ENTRY
            link.last_sent = min(link.last_sent, min(ids) - 1)
            if LinkState.PAUSED in TRANSITIONS[link.state]:
                link.move(LinkState.PAUSED, due=self.ctx.clock() + self.ctx.config.refusal_retry)
        elif link.last_code in PASSING_CODES:  # our step 2, refused after a notice that came first
            self._restart_later(link, self.ctx.config.refusal_retry)
        else:
            link.refused = Refused.STEP2  # the notice that follows says whether trying again can help
        self.ctx.wake.set()

    def _notice(self, link: Link, payload: str) -> ErrorNotice | None:
        """Report an error notice and act on it; returns it (``None`` for anything else)."""
        try:
            message = decode_control(payload)
        except ProtocolError:
            log.warning("undecodable control message for %s: %.200s", link.name, payload)
            return None
        if not isinstance(message, ErrorNotice):
            return None
        code = message.code
        self.ctx.error(code, message.message, document=link.name)
        link.last_code = code
        if code == ErrorCode.RATE_LIMITED:
            self._hold(message.retry_after)
        if link.state is LinkState.REJECTING:
            pass  # its entries answer to ``RejectedWrites``
        elif code in BLOCKING_CODES:
            link.error = (code, message.message)
            link.move(LinkState.BLOCKED)
        elif code == ErrorCode.MISSING_DEPENDENCIES and link.refused is Refused.FIRST_ENTRY:
            # the hub lacks changes older than our unacknowledged ones: a new exchange brings them first
            self._restart_later(link, self.ctx.config.refusal_retry)
        elif code in PASSING_CODES and (link.refused is Refused.STEP2 or link.state in UNANSWERED):
            # our step 2 was refused, or (before the hub's step 1 came) our step 1: exchange again
            self._restart_later(link, min(message.retry_after or self.ctx.config.refusal_retry, self.ctx.config.max_retry_after))
        self.ctx.wake.set()
        return message

    def _restart_later(self, link: Link, wait: float) -> None:
        if LinkState.RESTARTING in TRANSITIONS[link.state]:  # not once blocked: nothing goes before the next connection
            link.refused = None
            link.move(LinkState.RESTARTING, due=self.ctx.clock() + wait)

    def _hold(self, retry_after: float | None) -> None:
        """Over the device's rate: every document waits, then the retries go out together."""
        wait = min(max(retry_after or 0.0, self.ctx.config.refusal_retry), self.ctx.config.max_retry_after)
        self._hold_until = max(self._hold_until, self.ctx.clock() + wait)
