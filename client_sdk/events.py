"""Listener lists and the events the replica and the sync client report to the app."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

import msgspec

log = logging.getLogger(__name__)

E = TypeVar("E")


class Listeners(Generic[E]):
    """Callbacks for one kind of event. A failing callback is logged and never breaks the caller."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[E], Any]] = []

    def add(self, callback: Callable[[E], Any]) -> Callable[[], None]:
        """Register ``callback``; returns a function that removes it."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    def emit(self, event: E) -> None:
        for callback in list(self._callbacks):
            try:
                callback(event)
            except Exception:  # an app bug must not stop syncing or lose an acknowledgement
                log.exception("listener %r failed on %r", callback, event)


class ChangeOrigin(StrEnum):
    """Where a change to a record came from."""

    LOCAL = "local"
    REMOTE = "remote"


class RecordView(msgspec.Struct, frozen=True, kw_only=True):
    """A record as this replica holds it: its projection row."""

    name: str
    type: str | None
    id: str | None
    status: str | None
    assignee: str | None
    deleted: bool
    updated_at: datetime
    body: dict[str, Any]
    """Scalar fields, lists folded to their current entries, and texts (``conflict.project``)."""


class RecordChange(msgspec.Struct, frozen=True, kw_only=True):
    """One committed change of one record; callbacks get exactly one per local edit or applied remote update."""

    name: str
    origin: ChangeOrigin
    record: RecordView


class OutboxEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One unacknowledged local update (several coalesced edits at most), kept until the hub stored it."""

    id: int
    document: str
    update: bytes
    base_state_vector: bytes
    """The document's state vector just before the entry's first edit."""
    created_at: float


class RejectedEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A local update the hub refused to apply because the token could not reach its record (any more).

    The hub keeps it in its review queue; the device keeps it here (``LocalReplica.rejected``) and in the
    local document, and never sends it again.
    """

    id: int
    """The id it had in the outbox."""
    document: str
    update: bytes
    created_at: float
    """When the edit was made (Unix seconds)."""
    code: str
    """Why the hub refused the document: ``forbidden`` or ``access_revoked``."""
    reason: str
    rejected_at: float
    """When the hub's refusal of the entry reached the device (Unix seconds)."""
