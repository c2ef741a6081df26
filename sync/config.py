"""Tunables of the sync engine. The server fills them from ``FIELDSYNC_*`` variables (see README)."""

from __future__ import annotations

import msgspec

from sync.errors import ConfigError


class HubConfig(msgspec.Struct, kw_only=True, frozen=True):
    """Limits and timings of one hub node. Defaults suit the embedded mode and a field workforce."""

    max_frame_bytes: int = 1024 * 1024
    """Largest accepted binary frame; larger ones are refused with ``frame_too_large``."""

    max_documents_per_connection: int = 2000
    """Documents one socket may have authenticated at once (a device syncing 500 work orders uses one)."""

    messages_per_second: float = 500.0
    """Sustained CRDT frames per second per device (all its connections together)."""

    message_burst: int = 5000
    """Frames a device may send at once above the sustained rate (a reconnect with many documents)."""

    control_messages_per_minute: int = 100
    """Stateless control messages per device per 60 s."""

    send_queue_frames: int = 8192
    """Frames queued for one slow connection before it is closed as a slow consumer (it resyncs on reconnect)."""

    send_queue_bytes: int = 32 * 1024 * 1024
    """Bytes queued for one slow connection before it is closed as a slow consumer (4409); a frame queued for
    several requests at once (a large document's shared state) counts once."""

    pending_frames_per_document: int = 256
    """Frames held for a document while its authentication is in progress."""

    max_held_bytes: int = 128 * 1024
    """Bytes one connection may have held while documents wait for their Auth (each held frame counts its size
    plus 64), until it has authenticated a document; more are refused with ``queue_full``. Kept low: a socket
    that has not authenticated costs little."""

    max_held_bytes_authenticated: int = 1024 * 1024
    """The same bound once the connection has authenticated a document for a verified device (never less than
    ``max_held_bytes``): room for the step 1s of a reconnect of 2,000 documents (a step 1 costs about 100)."""

    max_unauthenticated_per_address: int = 64
    """Connections from one client address that have not authenticated a document yet; more are closed (4429)."""

    handshake_timeout_seconds: float = 10.0
    """A TCP connection whose HTTP request (the upgrade, or any later request on a kept-alive connection, headers
    and body) is not complete within this time is dropped: the first from the connection's opening, a later one
    from its first byte."""

    max_document_bytes: int = 16 * 1024 * 1024
    """Stored size of one document (snapshot plus log since the last compaction) a write may take it to; a write
    past it is refused with ``document_too_large``. A larger existing document stays readable."""

    max_awareness_bytes_per_connection: int = 64 * 1024
    """Awareness state one connection may hold, over all its documents; more is refused (``awareness_too_large``)."""

    max_awareness_bytes_per_document: int = 1024 * 1024
    """Awareness state of all connections on one document together; more is refused (``awareness_too_large``)."""

    projection_text_chars: int = 65536
    """Longest text root copied into a record's projection body; a longer one is left out (its length is noted)."""

    auth_timeout_seconds: float = 30.0
    """A connection that authenticates no document within this time is closed (4408)."""

    ping_interval_seconds: float = 15.0
    """A connection that was sent nothing for this long gets a Ping (Yjs providers drop a socket silent for 30 s)."""

    idle_unload_seconds: float = 30.0
    """A document with no subscribers and no pending writes is unloaded from memory after this long."""

    compaction_threshold: int = 500
    """Log entries of one document that trigger a background compaction into its snapshot."""

    group_commit_delay_ms: float = 2.0
    """How long the committer waits for more updates before committing a batch."""

    group_commit_max_batch: int = 2000
    """Most updates in one commit transaction."""

    projection_interval_ms: float = 50.0
    """How often changed documents' projections are written."""

    scope_poll_ms: float = 500.0
    """How often the projections of tenants with scope subscriptions are checked for changes made by other hub
    nodes (this node's own changes are pushed as soon as their projections are written)."""

    max_scopes_per_connection: int = 32
    """Scope subscriptions one socket may hold; more are refused with ``too_many_scopes``."""

    rejected_writes_per_hour: int = 100
    """Updates of a token refused access kept for review per device and hour on this node; more are refused
    without being kept (``write_rejected``; the device keeps them), so a refused token cannot fill the queue."""

    def __post_init__(self) -> None:
        for field in ("max_frame_bytes", "max_documents_per_connection", "message_burst", "control_messages_per_minute",
                      "send_queue_frames", "send_queue_bytes", "pending_frames_per_document", "max_held_bytes",
                      "max_held_bytes_authenticated",
                      "max_unauthenticated_per_address", "max_document_bytes", "max_awareness_bytes_per_connection",
                      "max_awareness_bytes_per_document", "projection_text_chars", "compaction_threshold", "group_commit_max_batch",
                      "max_scopes_per_connection", "rejected_writes_per_hour"):
            if getattr(self, field) < 1:
                raise ConfigError(f"{field} must be at least 1")
        for field in ("messages_per_second", "auth_timeout_seconds", "handshake_timeout_seconds", "ping_interval_seconds", "idle_unload_seconds",
                      "scope_poll_ms"):
            if getattr(self, field) <= 0:
                raise ConfigError(f"{field} must be positive")
        for field in ("group_commit_delay_ms", "projection_interval_ms"):
            if getattr(self, field) < 0:
                raise ConfigError(f"{field} must not be negative")
