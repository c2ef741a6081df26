"""The exception hierarchy: one root, one subclass per kind of refusal, each carrying its code."""

from __future__ import annotations

from sync.codes import CloseCode, ErrorCode


class FieldsyncError(Exception):
    """Root of every error fieldsync raises on purpose."""

    def __init__(self, code: ErrorCode, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class ProtocolError(FieldsyncError):
    """A frame or payload that does not decode. ``close_code`` is set when the whole socket must go."""

    def __init__(self, code: ErrorCode, reason: str, *, close_code: CloseCode | None = None) -> None:
        super().__init__(code, reason)
        self.close_code = close_code


class AuthError(FieldsyncError):
    """A token or role that does not grant the requested access."""


class LimitExceeded(FieldsyncError):
    """A configured resource limit was reached; ``retry_after`` is in seconds when waiting helps."""

    def __init__(self, code: ErrorCode, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(code, reason)
        self.retry_after = retry_after


class StoreError(FieldsyncError):
    """The store failed; the driver's exception is chained as ``__cause__``."""

    def __init__(self, reason: str) -> None:
        super().__init__(ErrorCode.STORE_UNAVAILABLE, reason)


class ReviewError(FieldsyncError):
    """A review request that cannot be carried out (unknown or already resolved conflict, invalid value)."""


class ConfigError(Exception):
    """Invalid configuration, reported at start before anything is served."""
