"""What one connection holds for documents whose Auth has not been answered yet, bounded in bytes.

Frames that arrive for a document before its Auth is answered wait in its link; together they may cost
at most ``max_held_bytes``, each counted with its size plus a fixed cost for the objects that hold it,
so that many tiny frames cost as much as they take. A frame beyond that is refused (``queue_full``) and
leaves nothing behind, not even a link; nor does a frame whose document name no record can have.

The budget is small while the connection is nobody's, so that an unauthenticated socket costs little. Once
it has authenticated a document it belongs to a verified device (limited by its rate, revocable), and the
budget grows to ``max_held_bytes_authenticated``: room for a reconnect of a couple of thousand documents
whose step 1s wait for their Auths.
"""

from __future__ import annotations

from sync.protocol import Frame

__all__ = ["FRAME_OVERHEAD", "MAX_DOCUMENT_NAME_CHARS", "HeldBytes", "frame_cost"]

#: What holding one decoded frame costs besides its bytes (the frame object, its list slot).
FRAME_OVERHEAD = 64
#: The longest name the document grammar allows (``conflict.names``: 40 + 1 + 120 + 1 + 40).
MAX_DOCUMENT_NAME_CHARS = 202


def frame_cost(frame: Frame) -> int:
    data = getattr(frame, "data", b"")
    return len(data) + len(getattr(frame, "document", "")) + FRAME_OVERHEAD


class HeldBytes:
    """The bytes a connection holds before Auth answers, against its limit."""

    __slots__ = ("_authenticated_limit", "limit", "used")

    def __init__(self, limit: int, authenticated_limit: int | None = None) -> None:
        self.limit = limit
        self._authenticated_limit = max(limit, authenticated_limit or limit)
        self.used = 0

    def authenticated(self) -> None:
        """The connection authenticated a document: from now on the larger budget applies."""
        self.limit = self._authenticated_limit

    def take(self, frame: Frame) -> bool:
        """Count ``frame`` if it fits; False (nothing counted) when it would pass the limit."""
        cost = frame_cost(frame)
        if self.used + cost > self.limit:
            return False
        self.used += cost
        return True

    def give_back(self, frames: list[Frame]) -> None:
        self.used = max(0, self.used - sum(frame_cost(frame) for frame in frames))
