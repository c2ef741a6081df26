"""Settings of the sync client: every field has a default that suits a field device."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SyncConfig:
    """How the sync client reconnects, watches its link and sizes its frames."""

    backoff_base: float = 1.0
    """Seconds: the ceiling of the first reconnect delay (full jitter picks a delay below it)."""
    backoff_cap: float = 30.0
    """Seconds: no reconnect delay ceiling grows beyond this."""
    max_attempts: int | None = None
    """Reconnect attempts before giving up; ``None`` never gives up (a field device keeps trying)."""
    heartbeat_interval: float = 25.0
    """Seconds without receiving anything before the client sends a Ping."""
    heartbeat_timeout: float = 60.0
    """Seconds without receiving anything after which the link is declared dead and reopened."""
    connect_timeout: float = 10.0
    """Seconds allowed for opening the WebSocket (TCP and handshake)."""
    refusal_retry: float = 2.0
    """Seconds before re-sending updates the hub refused for a passing reason (store down, rate limit)."""
    max_retry_after: float = 60.0
    """Seconds: the longest wait a notice's ``retry_after`` can impose (the hub's own never ask for more), so
    a notice that is not the hub's (an old hub relaying a client's payload) cannot stop a device for long."""
    max_inflight_per_document: int = 16
    """Update frames of one document sent and not yet acknowledged, at most (the hub limits a device's rate)."""
    token_refresh_margin: float = 60.0
    """Seconds before a provider's token expires at which the next one is asked for (a fixed token is never)."""
    client_name: str = "fieldsync-client-sdk"
    """Sent with every Auth, for the hub's logs."""
    held_before_auth_bytes: int = 64 * 1024
    """Bytes of step 1s (each its state vector, name and 64) sent for documents whose Auth is unanswered, until
    the hub has authenticated one document on the connection: it holds them meanwhile, within a small budget
    for sockets nobody has authenticated yet (``FIELDSYNC_MAX_HELD_BYTES``, 128 KiB by default), and refuses
    more (``queue_full``). A larger reconnect opens the rest as soon as the first document is authenticated."""

    def __post_init__(self) -> None:
        if not 0 < self.backoff_base <= self.backoff_cap:
            raise ValueError(f"need 0 < backoff_base <= backoff_cap, got {self.backoff_base}, {self.backoff_cap}")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1, or None")
        if not 0 < self.heartbeat_interval < self.heartbeat_timeout:
            raise ValueError("need 0 < heartbeat_interval < heartbeat_timeout")
        for name in ("connect_timeout", "refusal_retry", "max_retry_after"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.token_refresh_margin < 0:
            raise ValueError("token_refresh_margin must not be negative")
        if self.max_inflight_per_document < 1:
            raise ValueError("max_inflight_per_document must be at least 1")
        if self.held_before_auth_bytes < 1:
            raise ValueError("held_before_auth_bytes must be at least 1")
