"""The sync client's state, its transitions (all in one place), and the events it reports."""

from __future__ import annotations

from enum import StrEnum

import msgspec

from client_sdk.events import OutboxEntry, RejectedEntry


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
    """A ``sync.protocol.codes.ErrorCode`` value, ``close_<code>`` for a closed socket, ``unreachable``, or
    ``token_unavailable`` (the token provider failed; it is asked again)."""
    message: str
    document: str | None = None
    """The document concerned (``$scopes`` for a scope subscription's)."""
    subscription: str | None = None
    """The scope subscription a refusal on ``$scopes`` is about (its id: ``client_sdk.subscription_id``)."""
    fatal: bool = False
    """True when the client stopped retrying (the token was refused)."""


class ClientStatus(msgspec.Struct, frozen=True, kw_only=True):
    """A snapshot for the app's status bar."""

    state: SyncState
    pending: int
    """Local updates not yet acknowledged by the hub."""
    documents: int
    """Documents followed (by name or as members of followed scopes); when online, those this connection syncs."""
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


class SyncProgress(msgspec.Struct, frozen=True, tag=True):
    """How far the current connection has come: ``synced`` of its ``total`` documents are in sync.

    Sent whenever either number changes, so a long first sync of a scope can show a progress bar.
    """

    synced: int
    total: int


class ScopeUpdated(msgspec.Struct, frozen=True, tag=True):
    """The hub sent the members of a followed scope, or a change of them; the replica has stored it."""

    subscription: str
    scope: str
    version: int
    added: tuple[str, ...]
    """Documents that entered the scope (they are being opened)."""
    removed: tuple[str, ...]
    """Documents that left it."""
    complete: bool
    """The hub sent the whole member list (a first subscription, or a version too old to send changes)."""


class WriteRejected(msgspec.Struct, frozen=True, tag=True):
    """The hub refused local edits because the token cannot reach the record (any more): not applied, kept
    in the hub's review queue, and kept on the device (``LocalReplica.rejected``), never sent again."""

    document: str
    code: str
    """Why the hub refused the document: ``forbidden`` or ``access_revoked``."""
    entries: tuple[RejectedEntry, ...]


class TokenRefreshed(msgspec.Struct, frozen=True, tag=True):
    """The token provider gave a new token; the documents open on the socket are authenticated again with it."""

    expires_at: float | None
    """Its ``exp`` (Unix seconds), ``None`` when it has none the client can read."""


class TokenRefreshFailed(msgspec.Struct, frozen=True, tag=True):
    """The token provider raised (or gave no token); it is asked again after ``delay`` seconds."""

    attempt: int
    error: str
    delay: float


SyncEvent = (StateChanged | ReconnectScheduled | Connected | Disconnected | DocumentSynced | Acknowledged
             | ErrorReported | SyncProgress | ScopeUpdated | WriteRejected | TokenRefreshed | TokenRefreshFailed)
"""Everything ``SyncClient.on_event`` callbacks receive; dispatch with ``match``."""
