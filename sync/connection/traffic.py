"""What crossed one socket: frames and bytes each way by message type.

Counted on the hot path, so counting is a few list increments: the message type is read from the frame's
header without decoding it (a document name under 128 bytes is one length byte, which is nearly always so;
anything else counts as ``OTHER``), and no clock is read per frame (the admin samples activity instead).
Readers (the admin views, metrics) sum the lists when asked.
"""

from __future__ import annotations

import itertools
import time

__all__ = ["KINDS", "OTHER", "Traffic", "kind_of"]

#: Counted message types: the wire's 0-10 (``sync.protocol.MessageType``), then everything else.
KINDS = ("sync", "awareness", "auth", "query_awareness", "sync_reply", "stateless", "broadcast_stateless", "close",
         "sync_status", "ping", "pong", "other")
OTHER = len(KINDS) - 1
_ids = itertools.count(1)


def kind_of(frame: bytes) -> int:
    """The message type of an encoded frame, as an index into ``KINDS``."""
    try:
        length = frame[0]
        kind = frame[length + 1] if length < 128 else OTHER
    except IndexError:  # Ping and Pong are a bare byte; anything shorter than its header is not a frame
        kind = frame[0] if len(frame) == 1 else OTHER
    return kind if kind < OTHER else OTHER


class Traffic:
    """Counters of one connection; ``id`` names it in logs and the admin API (unique in this process),
    ``client_version`` is what its Auth frames said about the client."""

    __slots__ = ("id", "opened", "frames_in", "bytes_in", "frames_out", "bytes_out", "client_version")

    def __init__(self) -> None:
        self.id = next(_ids)
        self.opened = time.time()
        self.frames_in = [0] * len(KINDS)
        self.bytes_in = [0] * len(KINDS)
        self.frames_out = [0] * len(KINDS)
        self.bytes_out = [0] * len(KINDS)
        self.client_version = ""

    def received(self, frame: bytes) -> None:
        kind = kind_of(frame)
        self.frames_in[kind] += 1
        self.bytes_in[kind] += len(frame)

    def sent(self, frame: bytes) -> None:
        kind = kind_of(frame)
        self.frames_out[kind] += 1
        self.bytes_out[kind] += len(frame)

    @property
    def received_frames(self) -> int:
        return sum(self.frames_in)

    def client(self, version: str) -> None:
        """Note the client name and version an Auth carried (Hocuspocus providers send theirs)."""
        if version:
            self.client_version = version[:120]

