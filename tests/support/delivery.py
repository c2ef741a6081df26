"""Count what a subscriber was sent: each update frame either brought something new or was a duplicate.

A subscriber's copy of a document replays every update frame it received, in order; a frame after which
the copy did not change carried only what the subscriber already had (a duplicate, or its own update
echoed back). Exactly-once delivery means: everything arrived and no frame was a duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable

from pycrdt import Doc, Map

from sync.protocol import Frame, Sync, SyncStep


class Deliveries:
    """A replay of one subscriber's update frames for one document, started from what it held."""

    def __init__(self, start: Doc | None = None) -> None:
        self.doc = Doc()
        if start is not None:
            self.doc.apply_update(start.get_update())
        self.useful = 0
        self.duplicates = 0
        self._changed = False
        self.doc.observe(lambda _: setattr(self, "_changed", True))

    def replay(self, updates: Iterable[bytes]) -> Deliveries:
        for update in updates:
            self._changed = False
            self.doc.apply_update(update)
            if self._changed:
                self.useful += 1
            else:
                self.duplicates += 1
        return self

    def replay_frames(self, frames: Iterable[Frame], name: str) -> Deliveries:
        """Replay the Sync frames for ``name`` in arrival order: step 2 answers (what the subscriber lacked
        when it opened or reconnected) are applied without counting; each update frame is counted."""
        for frame in frames:
            if isinstance(frame, Sync) and frame.document == name:
                if frame.step is SyncStep.UPDATE:
                    self.replay([frame.data])
                elif frame.step is SyncStep.STEP2:
                    self.doc.apply_update(frame.data)
        return self

    @property
    def record(self) -> dict[str, object]:
        return self.doc.get("record", type=Map).to_py()


def update_payloads(frames: Iterable[Frame], name: str) -> list[bytes]:
    """The payloads of the Sync update frames for ``name`` (the updates relayed after the first sync)."""
    return [f.data for f in frames if isinstance(f, Sync) and f.document == name and f.step is SyncStep.UPDATE]
