"""The hub's errors: one root (``FieldsyncError``), the wire refusals, and the hub's own kinds."""

from __future__ import annotations

from conflict.errors import FieldsyncError
from sync.protocol.codes import ErrorCode
from sync.protocol.errors import AuthError, LimitExceeded, ProtocolError

__all__ = ["AdminError", "AuthError", "ConfigError", "FieldsyncError", "LimitExceeded", "ProtocolError", "ReviewError", "StoreError"]


#: Seconds a client is told to wait before re-sending what the store could not take.
STORE_RETRY_AFTER = 2.0


class StoreError(FieldsyncError):
    """The store failed; the driver's exception is chained as ``__cause__``. Retryable: the store may be
    back in ``retry_after`` seconds (a restarting database, a failover), and nothing was acknowledged."""

    def __init__(self, reason: str, *, retry_after: float = STORE_RETRY_AFTER) -> None:
        super().__init__(ErrorCode.STORE_UNAVAILABLE, reason)
        self.retry_after = retry_after


class ReviewError(FieldsyncError):
    """A review request that cannot be carried out (unknown or already resolved conflict, invalid value)."""


class AdminError(FieldsyncError):
    """An operator's request that cannot be carried out (unknown device, document not loaded or in use)."""


class ConfigError(FieldsyncError):
    """Invalid configuration, reported at start before anything is served; its text is the reason alone."""

    def __init__(self, reason: str) -> None:
        super().__init__("invalid_config", reason)

    def __str__(self) -> str:
        return self.reason
