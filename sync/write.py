"""The write path: one client update from its decoded frame to its acknowledgement, in the order it happens.

    1. decode     ``Session.receive`` decodes the frame (``sync.protocol``) and routes it to its link
    2. authorize  ``WritePath.write``: the link's access (``sync.gate``); a readonly link is refused (or acked
                  for nothing new); a write past the document size limit is refused; a creation must come out
                  in a shape its author reaches
    3. apply      ``Room.apply_update`` merges it into the room's document, watched by the ``RecordWatch``
    4. judge      ``Referee.judge``: the access rules' writable fields and the domain rules; a correction is
                  made as the hub's own update; ``document_changed`` hook (``AccessWatch``: if an access
                  field moved, subscribers check their access)
    5. broadcast  ``Room.relay`` sends it to the room's other subscribers (end of tick, merged per origin);
                  the correction goes at once to every subscriber, the author included
    6. commit     ``Committer.submit``: group commit; the update and its correction share one transaction
    7. ack        ``Replies.ack``: SyncStatus(true) leaves when the commit's future resolves (invariant 1)
    8. project    ``update_committed`` hook → ``Projector`` marks the record for its next flush
    9. publish    ``update_committed`` hook → ``BusExtension`` publishes to the other nodes
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace

from conflict.codes import ViolationCode
from conflict.outcome import Violation
from sync.access import Access, Principal, Scope, parse_name
from sync.connection.link import Link
from sync.connection.replies import Replies
from sync.documents.committer import Committer
from sync.documents.room import Room
from sync.errors import AuthError, LimitExceeded, ProtocolError
from sync.gate import AccessGate, record_empty, record_of
from sync.hooks import Hooks
from sync.protocol import EMPTY_UPDATE, Sender, encode_sync_update
from sync.protocol.codes import ErrorCode
from sync.protocol.control import ErrorNotice
from sync.referee import Referee
from sync.store import LogEntry

__all__ = ["WritePath"]


class WritePath:
    """Takes client updates into rooms and the log, and acknowledges them once durable."""

    def __init__(
        self,
        committer: Committer,
        referee: Referee,
        hooks: Hooks,
        gate: AccessGate,
        room_of: Callable[[tuple[str, str]], Room | None],
        *,
        max_document_bytes: int = 1 << 62,
    ) -> None:
        self._committer = committer
        self._room_of = room_of
        self._referee = referee
        self._hooks = hooks
        self._gate = gate
        self._max_document_bytes = max_document_bytes
        self._writes: dict[asyncio.Future[None], dict[Room, int]] = {}

    def write(self, link: Link, update: bytes, author: Principal, origin: Sender, replies: Replies) -> None:
        """Steps 2 to 7 for one update (step 1 happened in the session); every path ends in exactly one ack."""
        room, name = link.room, link.name
        assert room is not None, "an authenticated link has a room"
        # 2. authorize
        if not link.writable:
            if room.contains(update):
                replies.ack(name, True)
            else:
                replies.ack(name, False, AuthError(ErrorCode.READONLY, "this token may only read the document"))
            return
        if update == EMPTY_UPDATE:
            replies.ack(name, True)
            return
        if room.stored_bytes + len(update) > self._max_document_bytes and _adds_content(update):  # before a merge
            limit = self._max_document_bytes
            replies.ack(name, False, LimitExceeded(ErrorCode.DOCUMENT_TOO_LARGE, f"the document would pass {limit} bytes"))
            return
        # 3-5. apply, judge, broadcast
        try:
            correction, violations = self.merge(room, update, origin, author, link.access)
        except ProtocolError as exc:
            replies.ack(name, False, exc)
            return
        if link.access is not None and link.access.create and not record_empty(room):
            link.access = replace(link.access, create=False)  # the record exists now: later writes create nothing
        # 6. commit
        committed = self.persist(room, update, *([correction] if correction is not None else []))
        # 7. ack: queued in arrival order, sent when ``committed`` resolves, i.e. after the transaction
        replies.ack(name, committed)
        for violation in violations:  # the update is kept as sent; the hub's correction has already gone out
            replies.notify(name, ErrorNotice(code=str(violation.code), message=violation.message, field=violation.field))

    def merge(
        self, room: Room, update: bytes, origin: Sender | None, author: Principal, access: Access | None = None
    ) -> tuple[bytes | None, tuple[Violation, ...]]:
        """Apply ``update`` and hold the record to its rules: the hub's correction (already applied and sent to
        every subscriber) and the violations to report. Raises ``ProtocolError`` when the update is refused.
        """
        watch = room.watch
        if watch is None:  # not a record this hub knows: merged and stored, never judged
            room.apply_update(update, origin=origin)
            return None, ()
        creating = access is not None and access.create and record_empty(room)
        writable = access.writable if access is not None else None
        # the texts whose edit may be undone: those the author may not write; all of them for a creation
        texts = watch.record_type.text_roots
        undoable = None if creating else [root for root in texts if writable is not None and root not in writable]
        watch.begin(keep_texts=undoable)
        try:
            room.apply_update(update, origin=origin)
        finally:
            change = watch.collect()
        out_of_reach = creating and not record_empty(room) and not self._reaches(author, room)
        correction, violations = self._referee.judge(  # a record created out of reach is undone whole, and recorded
            room, change, author, update, writable, undo_all=ViolationCode.OUT_OF_REACH if out_of_reach else None)
        if correction is not None:
            room.broadcast(encode_sync_update(room.name, correction))
        self._hooks.document_changed(room)  # e.g. an assignment moved: subscribers check their access again
        return correction, violations

    def _reaches(self, author: Principal, room: Room) -> bool:
        created = self._gate.rules.decide(author, parse_name(room.name).record_type, record_of(room))
        return created.scope is Scope.READ_WRITE

    def persist(self, room: Room, update: bytes, *more: bytes) -> asyncio.Future[None]:
        """Append ``update`` (and ``more``, in the same transaction) to the log; resolves once durable.

        The future is shared with the other writes of the same transaction: never cancel it.
        """
        entries = [LogEntry(room.tenant, room.name, u) for u in (update, *more)]
        future = self._committer.submit(*entries)
        room.pending_writes += 1
        room.stored_bytes += sum(len(entry.update) for entry in entries)
        # the submissions of one transaction share its future: count each room's writes, settle them at once
        writes = self._writes.get(future)
        if writes is None:
            writes = self._writes[future] = {}
            future.add_done_callback(self._writes_done)
        writes[room] = writes.get(room, 0) + 1
        return future

    def _writes_done(self, future: asyncio.Future[None]) -> None:
        for room, count in self._writes.pop(future, {}).items():
            room.pending_writes -= count

    def committed(self, entries: Sequence[LogEntry]) -> None:
        """Steps 8 and 9: the committer calls this after each transaction; the extensions project and publish.

        Each room first notes the log positions its entries were given (what catch-ups and compaction read).
        """
        for entry in entries:
            room = self._room_of((entry.tenant, entry.name))
            if room is not None:
                room.position.noted(entry.seq)
        self._hooks.update_committed(entries)


#: A deletions-only update at most this large passes the document size limit (a step 2 of a replica that
#: lacks nothing still carries the document's delete set).
DELETIONS_ONLY_BYTES = 4096


def _adds_content(update: bytes) -> bool:
    """False for a small update without structs (deletions only): it cannot make the document larger."""
    return len(update) > DELETIONS_ONLY_BYTES or update[:1] != b"\x00"
