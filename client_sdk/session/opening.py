"""Which queued documents to open now: a hub holds few step 1s for a socket it has not authenticated.

A document opens with its Auth and our step 1 in one go; the hub holds the step 1 until it has answered that
Auth, and until it has authenticated one document on the socket it holds little (``FIELDSYNC_MAX_HELD_BYTES``,
128 KiB by default: some 1,300 step 1s) and refuses the rest (``queue_full``). So, before the first
``Authenticated``, the step 1s of unanswered Auths stay within ``SyncConfig.held_before_auth_bytes``; the
documents past it stay queued until an answer frees room. After it, everything opens at once: the hub's budget
for an authenticated socket (``FIELDSYNC_MAX_HELD_BYTES_AUTHENTICATED``) fits a reconnect of every document a
connection may hold.
"""

from __future__ import annotations

from collections.abc import Mapping

from sync.protocol import Authenticated, Frame, PermissionDenied

__all__ = ["Opening", "step1_cost"]


def step1_cost(name: str, state_vector: bytes) -> int:
    """What the hub counts for holding a step 1 (``sync.connection.held``): its vector, its name and 64."""
    return len(state_vector) + len(name) + 64


class Opening:
    """What the hub holds for this connection's unanswered Auths, until it has authenticated a document."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.authenticated = False
        self._held: dict[str, int] = {}
        self._waiting = False

    def choose(self, queued: list[str], vectors: Mapping[str, bytes]) -> list[str]:
        """The first of ``queued`` to open now (all of them once a document is authenticated); they count as held."""
        if self.authenticated:
            return queued
        held = sum(self._held.values())
        chosen = []
        for name in queued:
            cost = step1_cost(name, vectors[name])
            if held and held + cost > self.budget:  # (with nothing held, one goes whatever its size)
                break
            held += cost
            self._held[name] = cost
            chosen.append(name)
        self._waiting = len(chosen) < len(queued)
        return chosen

    def answered(self, frame: Frame) -> bool:
        """Note an answer to an Auth; True when documents left queued may be opened now."""
        if not isinstance(frame, (Authenticated, PermissionDenied)):
            return False
        self.authenticated = self.authenticated or isinstance(frame, Authenticated)
        self._held.pop(frame.document, None)
        waiting, self._waiting = self._waiting, False
        return waiting
