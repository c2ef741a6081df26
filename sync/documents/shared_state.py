"""The whole of a document encoded once per version and shared by every step 1 that needs most of it.

Answering each SyncStep1 with its own diff costs the hub a copy per request; for a large document and a
client that lacks most of it (a new device, or a state vector naming clients the document does not have)
the diff is about the whole document. Those requests get one shared frame instead, built once per version
of the document: the send queue then holds one copy however many requests wait for it, and counts it once.
Receiving a little more than it lacks changes nothing for a Yjs client (updates are idempotent).
"""

from __future__ import annotations

from pycrdt import Doc

from sync.errors import ProtocolError
from sync.protocol import Sync, SyncStep, decode_state_vector, encode_frame
from sync.protocol.codes import ErrorCode

__all__ = ["SHARED_FROM_BYTES", "SharedState"]

#: A diff at least this large is answered with the shared whole document instead.
SHARED_FROM_BYTES = 64 * 1024


class SharedState:
    """Counts the document's versions (every transaction that changed it) and caches its encoded whole."""

    __slots__ = ("_doc", "_subscription", "version", "_frame", "_frame_version")

    def __init__(self, doc: Doc, *, observe: bool = True) -> None:
        self._doc = doc
        self.version = 0
        self._frame: bytes | None = None
        self._frame_version = -1
        # an owner that observes the document already (a room) calls ``changed`` itself: one observer, not two
        self._subscription = doc.observe(self.changed) if observe else None

    def changed(self, _: object = None) -> None:
        """The document changed: a new version."""
        self.version += 1
        self._frame = None  # released at once: an old version is never sent again

    def step2(self, name: str, state_vector: bytes) -> bytes:
        """The step 2 frame answering ``state_vector``: its own diff when small, else the shared whole."""
        try:
            wants_all = not decode_state_vector(state_vector)
        except (ProtocolError, ValueError) as exc:
            raise ProtocolError(ErrorCode.INVALID_STATE_VECTOR, f"state vector does not decode: {exc}") from None
        if not wants_all:
            try:
                missing = self._doc.get_update(state_vector)
            except ValueError as exc:
                raise ProtocolError(ErrorCode.INVALID_STATE_VECTOR, f"state vector does not decode: {exc}") from None
            if len(missing) < SHARED_FROM_BYTES:
                return encode_frame(Sync(name, SyncStep.STEP2, missing))
            del missing
        return self.whole(name)

    def whole(self, name: str) -> bytes:
        """The frame of the whole document at its current version (built on first use)."""
        if self._frame is None or self._frame_version != self.version:
            self._frame = encode_frame(Sync(name, SyncStep.STEP2, self._doc.get_update()))
            self._frame_version = self.version
        return self._frame
