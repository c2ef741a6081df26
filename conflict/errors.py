"""The root of every error the hub side raises on purpose, and the errors the domain raises.

``FieldsyncError`` lives here, in the lowest package, so that the domain's errors, the protocol's refusals
(``sync.protocol.errors``) and the hub's own (``sync.errors``) share one root. Every domain error is also a
``ValueError`` so that code validating input can catch the family in one place. User data never raises from
projections or policies: those return problems and verdicts instead.
"""

from __future__ import annotations


class FieldsyncError(Exception):
    """Root of every error fieldsync raises on purpose; ``code`` names it for clients and logs."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class DomainError(FieldsyncError, ValueError):
    """Root of every error ``conflict`` raises; its text is the reason alone."""

    default_code = "invalid_record"

    def __init__(self, reason: str) -> None:
        super().__init__(self.default_code, reason)

    def __str__(self) -> str:
        return self.reason


class HlcError(DomainError):
    """A hybrid logical clock timestamp that is out of range or does not parse."""


class ClockDriftError(HlcError):
    """A remote timestamp lies further ahead of the local clock than the configured drift allows."""

    def __init__(self, remote_wall_ms: int, local_wall_ms: int, max_drift_ms: int) -> None:
        super().__init__(
            f"remote time {remote_wall_ms} is {remote_wall_ms - local_wall_ms} ms ahead of local time "
            f"{local_wall_ms}; at most {max_drift_ms} ms is accepted"
        )
        self.remote_wall_ms = remote_wall_ms
        self.local_wall_ms = local_wall_ms
        self.max_drift_ms = max_drift_ms


class InvalidDocumentName(DomainError):
    """A document name that is not ``{type}:{id}`` with an optional ``/{part}``."""


class UnknownRecordType(DomainError):
    """A record type (or companion part) that the registry does not define."""
