"""What every part of the hub that emits frames needs of a connection: a send that never blocks."""

from __future__ import annotations

from typing import Protocol

__all__ = ["Sender"]


class Sender(Protocol):
    """Queues one encoded frame for a peer (a room's subscriber, a scope's sink, a reply's target)."""

    def send(self, frame: bytes) -> None: ...
