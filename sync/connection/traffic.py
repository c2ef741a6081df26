"""What crossed one socket: frames and bytes each way by message type, and when it was last active.

Counted on the hot path, so counting is a few list increments: the message type is read from the frame's
header without decoding it (a document name under 128 bytes is one length byte, which is nearly always so;
anything else counts as ``OTHER``). Readers (the admin registry, metrics) sum the lists when asked.
"""

from __future__ import annotations

import itertools
import time

__all__ = ["KINDS", "OTHER", "Traffic"]

#: Counted message types: the wire's 0-10 (``sync.protocol.MessageType``), then everything else.
KINDS = ("sync", "awareness", "auth", "query_awareness", "sync_reply", "stateless", "broadcast_stateless", "close",
         "sync_status", "ping", "pong", "other")
OTHER = len(KINDS) - 1
_ids = itertools.count(1)


def kind_of(frame: bytes) -> int:
    """The message type of an encoded frame, as an index into ``KINDS``."""
    if len(frame) == 1:  # Ping and Pong are a bare byte
        kind = frame[0]
    else:
        length = frame[0] if frame else 128
        kind = frame[length + 1] if length < 128 and len(frame) > length + 1 else OTHER
    return kind if kind < OTHER else OTHER


class Traffic:
    """Counters of one connection; ``id`` names it in logs and the admin API (unique in this process),
    ``client_version`` is what its Auth frames said about the client."""

    __slots__ = ("id", "opened", "frames_in", "bytes_in", "frames_out", "bytes_out", "last_activity", "client_version")

    def __init__(self) -> None:
        self.id = next(_ids)
        self.frames_in = [0] * len(KINDS)
        self.bytes_in = [0] * len(KINDS)
        self.frames_out = [0] * len(KINDS)
        self.bytes_out = [0] * len(KINDS)
        self.opened = self.last_activity = time.time()
        self.client_version = ""

    def received(self, frame: bytes) -> None:
        kind = kind_of(frame)
        self.frames_in[kind] += 1
        self.bytes_in[kind] += len(frame)
        self.last_activity = time.time()

    def sent(self, frame: bytes) -> None:
        kind = kind_of(frame)
        self.frames_out[kind] += 1
        self.bytes_out[kind] += len(frame)

    def client(self, version: str) -> None:
        """Note the client name and version an Auth carried (Hocuspocus providers send theirs)."""
        if version:
            self.client_version = version[:120]
