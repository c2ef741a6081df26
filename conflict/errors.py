"""Errors the domain raises on purpose.

``conflict`` sits below ``sync`` and cannot import its ``FieldsyncError``; callers translate these at their
boundary. Every class is a ``ValueError`` so that code validating input can catch the family in one place.
User data never raises from projections or policies: those return problems and verdicts instead.
"""

from __future__ import annotations


class DomainError(ValueError):
    """Root of every error ``conflict`` raises."""


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
