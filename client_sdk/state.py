"""The sync client's state, its transitions (all in one place), and the events it reports."""

from __future__ import annotations

from enum import StrEnum

import msgspec

from client_sdk.events import OutboxEntry


class SyncState(StrEnum):
    """Where the device stands with the hub."""

    OFFLINE = "offline"
    """No connection: not started, waiting to retry, or stopped."""
    CONNECTING = "connecting"
    """Opening the WebSocket."""
    SYNCING = "syncing"
    """Connected; documents are being authenticated and exchanged, or local updates await acknowledgement."""
    SYNCED = "synced"
    """Connected; every followed document is in sync and the outbox is empty."""


TRANSITIONS: dict[SyncState, frozenset[SyncState]] = {
    SyncState.OFFLINE: frozenset({SyncState.CONNECTING}),
    SyncState.CONNECTING: frozenset({SyncState.SYNCING, SyncState.OFFLINE}),
    SyncState.SYNCING: frozenset({SyncState.SYNCED, SyncState.OFFLINE}),
    SyncState.SYNCED: frozenset({SyncState.SYNCING, SyncState.OFFLINE}),
}


def check_transition(old: SyncState, new: SyncState) -> None:
    """Raise ``RuntimeError`` for a transition the client must never make (a bug, not an input)."""
    if new is not old and new not in TRANSITIONS[old]:
        raise RuntimeError(f"sync state {old.value} -> {new.value} is not a transition")


class SyncError(msgspec.Struct, frozen=True, kw_only=True):
    """A problem reported by the hub or met on the way to it."""

    code: str
    """A ``sync.codes.ErrorCode`` value, ``close_<code>`` for a closed socket, or ``unreachable``."""
    message: str
    document: str | None = None
    fatal: bool = False
    """True when the client stopped retrying (the token was refused)."""


class ClientStatus(msgspec.Struct, frozen=True, kw_only=True):
    """A snapshot for the app's status bar."""

    state: SyncState
    pending: int
    """Local updates not yet acknowledged by the hub."""
    documents: int
    """Documents followed."""
    synced_documents: int
    """Documents in sync on the current connection."""
    last_error: SyncError | None


class StateChanged(msgspec.Struct, frozen=True, tag=True):
    old: SyncState
    new: SyncState


class ReconnectScheduled(msgspec.Struct, frozen=True, tag=True):
    attempt: int
    delay: float


class Connected(msgspec.Struct, frozen=True, tag=True):
    pass


class Disconnected(msgspec.Struct, frozen=True, tag=True):
    code: int | None
    reason: str


class DocumentSynced(msgspec.Struct, frozen=True, tag=True):
    document: str


class Acknowledged(msgspec.Struct, frozen=True, tag=True):
    """Entries the hub stored durably; they have left the outbox."""

    document: str
    entries: tuple[OutboxEntry, ...]


class ErrorReported(msgspec.Struct, frozen=True, tag=True):
    error: SyncError


SyncEvent = StateChanged | ReconnectScheduled | Connected | Disconnected | DocumentSynced | Acknowledged | ErrorReported
"""Everything ``SyncClient.on_event`` callbacks receive; dispatch with ``match``."""
