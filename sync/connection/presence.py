"""Awareness from one connection: decoded, held to its owner and its size limits, relayed to the others.

A client id belongs to the connection that set it (``sync.documents.awareness``): an update or removal of
another connection's id is dropped, and so is state past the connection's or the document's byte limit;
either way the sender gets one notice per update, and the others receive only what was accepted.
"""

from __future__ import annotations

from collections.abc import Hashable

from sync.connection.replies import Replies
from sync.documents.awareness import AwarenessBudget
from sync.documents.room import Room
from sync.errors import LimitExceeded, ProtocolError
from sync.protocol.awareness import decode_awareness_update
from sync.protocol.codes import ErrorCode

__all__ = ["receive_awareness"]


def receive_awareness(room: Room, data: bytes, owner: Hashable, budget: AwarenessBudget, replies: Replies) -> None:
    """Apply one Awareness payload from ``owner`` to ``room`` and relay what it changed."""
    name = room.name
    try:
        entries = decode_awareness_update(data)
    except ProtocolError as exc:
        replies.notice(name, exc)
        return
    outcome = room.update_awareness(entries, owner, budget=budget)
    if outcome.not_owned:
        replies.notice(name, ProtocolError(
            ErrorCode.AWARENESS_NOT_OWNED, f"{outcome.not_owned} awareness client(s) belong to another connection"))
    if outcome.too_large:
        limit = min(budget.limit, room.awareness.document_limit)
        replies.notice(name, LimitExceeded(
            ErrorCode.AWARENESS_TOO_LARGE,
            f"{outcome.too_large} awareness state(s) over the limit ({budget.limit} bytes per connection, "
            f"{room.awareness.document_limit} per document; at most {limit})"))
