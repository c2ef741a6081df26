"""Edits for a record the token may not reach (any more): sent once for the hub's review queue, kept as rejected.

When the hub refuses a document (``forbidden``) or takes it away (``access_revoked``), its link goes to
``REJECTING`` for the rest of the connection. Once the token is known to be good (the hub accepted it for
some document on this connection), every outbox entry of it is sent once more: the hub does not
apply it, answers ``SyncStatus(false)`` with a ``write_rejected`` notice, and keeps it in its review queue
with its author, device, time and content. The device then moves the entry from the outbox to its rejected
writes (``LocalReplica.reject``) and tells the app (``WriteRejected``). Nothing typed is lost, nothing is
sent for ever, and the document's entries stop blocking the rest of the outbox.

The answers to what was sent before the refusal still come: an entry stored before it is acknowledged as
usual. An entry refused for a passing reason (over the device's rate, the store unavailable) is sent again
once that has passed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable

from client_sdk.errors import ReplicaError
from client_sdk.session.context import SessionContext
from client_sdk.session.link import Link, LinkState
from client_sdk.session.refusals import PASSING_CODES
from client_sdk.state import WriteRejected
from sync.protocol import Frame, ProtocolError, Stateless, Sync, SyncStatus, SyncStep
from sync.protocol.control import ErrorNotice, decode_control
from sync.protocol.codes import ErrorCode

#: Refusals of a whole document after which its entries are sent once and kept as rejected.
LOST_ACCESS_CODES = frozenset({ErrorCode.FORBIDDEN, ErrorCode.ACCESS_REVOKED})
#: Refusals of one entry that pass: it is sent again (the hub keeps an entry of a refused document whatever it needs).
_AGAIN = PASSING_CODES | {ErrorCode.MISSING_DEPENDENCIES}
_PAIRED = _AGAIN | {ErrorCode.WRITE_REJECTED, ErrorCode.INVALID_UPDATE, ErrorCode.FRAME_TOO_LARGE}
"""Notice codes that always come with the ``SyncStatus(false)`` of a refused update (others concern other frames)."""


def _explains_refused_update(payload: str) -> bool:
    try:
        message = decode_control(payload)
    except ProtocolError:
        return False
    return isinstance(message, ErrorNotice) and message.code in _PAIRED


class RejectedWrites:
    """The ``REJECTING`` links of one connection; the session hands them their frames and asks them to flush."""

    def __init__(self, ctx: SessionContext, *, may_send: Callable[[Link], bool]) -> None:
        self.ctx = ctx
        self.replica = ctx.replica
        self._may_send = may_send

    def start(self, link: Link, code: str, reason: str) -> None:
        """``link``'s document was refused or taken away: from now on its entries go to the review queue."""
        link.error = (code, reason)
        link.move(LinkState.REJECTING)
        self.ctx.wake.set()

    @staticmethod
    def all_forbidden(links: Iterable[Link]) -> str | None:
        """The reason, when every document was refused ``forbidden``.

        Before the token was accepted for any document, that is the token's refusal (its roles reach
        nothing), not a record's: the client reports it as such and the edits stay in the outbox.
        """
        links = list(links)
        if links and all(link.error is not None and link.error[0] == ErrorCode.FORBIDDEN
                         and link.state in (LinkState.DENIED, LinkState.REJECTING) for link in links):
            return links[0].error[1]  # type: ignore[index]
        return None

    async def handle(self, link: Link, frame: Frame, *, read_notice: Callable[[str], ErrorNotice | None]) -> None:
        """A frame of ``link``'s document after its refusal: the answers to what was sent, or late content."""
        match frame:
            case SyncStatus(applied=applied):
                await self.status(link, applied)
            case Stateless(payload=payload) if _explains_refused_update(payload):
                notice = read_notice(payload)  # reported, and a rate limit held, by the session
                if notice is not None:
                    await self.notice(link, notice.code, notice.message)
            case Sync(step=step, data=update) if step is not SyncStep.STEP1:  # sent before the refusal
                with contextlib.suppress(ReplicaError):  # reported by the replica's caller elsewhere; keep going
                    await self.replica.apply_remote(link.name, update)
            case _:
                pass  # a step 1 is not answered (a step 2 would only go to the review queue); the refusal of
                # our step 1 held with the Auth (``not_authenticated``) says nothing new

    async def flush(self, link: Link) -> None:
        """Send each sealed entry not sent yet (and those to send again), oldest first, within the in-flight limit."""
        again = link.rejections.resend
        if not self._may_send(link) or (self.replica.pending_count(link.name) <= link.updates_in_flight
                                        and not again):
            return
        for entry in await self.replica.sendable(link.name):
            if entry.id <= link.last_sent and entry.id not in again:
                continue
            if not self._may_send(link) or link.state is not LinkState.REJECTING:
                break
            again.discard(entry.id)
            self.ctx.conn.send(Sync(link.name, SyncStep.UPDATE, entry.update))
            link.inflight.append((entry.id,))
            link.last_sent = max(link.last_sent, entry.id)

    async def status(self, link: Link, applied: bool) -> None:
        """A ``SyncStatus``: what was stored before the refusal leaves the outbox; a refusal waits for its notice."""
        if not link.inflight:
            return
        ids = link.inflight.popleft()
        if applied:
            await self.ctx.acknowledged(link.name, ids)
            return
        link.rejections.refused.append(ids)
        await self._settle(link)

    async def notice(self, link: Link, code: str, message: str) -> None:
        """An error notice: one that explains a refused update is paired with its status."""
        if code in _PAIRED:
            link.rejections.reasons.append((code, message))
            await self._settle(link)

    async def _settle(self, link: Link) -> None:
        """Entries whose refusal and reason have both come: kept as rejected, or sent again."""
        assert link.error is not None, "a rejecting link knows why"
        kept: dict[tuple[str, str], list[int]] = {}
        for ids, (code, message) in link.rejections.pairs():
            if code in _AGAIN:
                link.rejections.resend.update(ids)
            elif ids:
                # ``write_rejected``: kept for review because of the document's refusal, whose code says why
                kept.setdefault(link.error if code == ErrorCode.WRITE_REJECTED else (code, message), []).extend(ids)
        for (code, reason), ids in kept.items():
            entries = await self.replica.reject(ids, code, reason)
            self.ctx.report(WriteRejected(document=link.name, code=code, entries=tuple(entries)))
        if kept:
            self.ctx.changed()
        self.ctx.wake.set()
