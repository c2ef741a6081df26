"""Refusals a client receives on the wire, each carrying its code (``sync.protocol.codes``)."""

from __future__ import annotations

from conflict.errors import FieldsyncError
from sync.protocol.codes import CloseCode, ErrorCode

__all__ = ["AuthError", "FieldsyncError", "LimitExceeded", "ProtocolError"]


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
