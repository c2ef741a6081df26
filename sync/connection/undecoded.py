"""Refusing a frame that did not decode: answered on the document its header names, when it names one."""

from __future__ import annotations

from sync.connection.replies import Replies
from sync.errors import LimitExceeded, ProtocolError
from sync.protocol import MessageType, SyncStep
from sync.protocol.codes import ErrorCode
from sync.protocol.lib0 import Reader

__all__ = ["frame_header", "refuse_undecoded"]


def frame_header(data: bytes) -> tuple[str, int | None] | None:
    """The document name and sync step (``None`` for other kinds) of a frame; ``None`` if even those are unreadable."""
    reader = Reader(data)
    try:
        name = reader.read_var_string()
        kind = reader.read_var_uint()
        step = reader.read_var_uint() if kind in (MessageType.SYNC, MessageType.SYNC_REPLY) else None
    except ProtocolError:
        return None
    return name, step


def refuse_undecoded(replies: Replies, header: tuple[str, int | None], code: ErrorCode, reason: str) -> None:
    """SyncStatus(false) for an update or step 2 (so the sender's count stays right), and a notice with the code."""
    name, step = header
    refusal = LimitExceeded(code, reason) if code is ErrorCode.FRAME_TOO_LARGE else ProtocolError(code, reason)
    if step in (SyncStep.STEP2, SyncStep.UPDATE):
        replies.ack(name, False, refusal)
    else:
        replies.notice(name, refusal)
