"""The hub's errors: one root (``FieldsyncError``), the wire refusals, and the hub's own kinds."""

from __future__ import annotations

from conflict.errors import FieldsyncError
from sync.protocol.codes import ErrorCode
from sync.protocol.errors import AuthError, LimitExceeded, ProtocolError

__all__ = ["AdminError", "AuthError", "ConfigError", "FieldsyncError", "LimitExceeded", "ProtocolError", "ReviewError", "StoreError"]


class StoreError(FieldsyncError):
    """The store failed; the driver's exception is chained as ``__cause__``."""

    def __init__(self, reason: str) -> None:
        super().__init__(ErrorCode.STORE_UNAVAILABLE, reason)


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
