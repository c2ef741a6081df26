"""The SDK's exceptions: one root, one subclass per kind of failure the app can act on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from client_sdk.state import SyncError


class ClientError(Exception):
    """Root of every error the device SDK raises on purpose."""


class ReplicaError(ClientError):
    """The local SQLite replica could not be read or written; the edit was not applied."""


class RecordNotFound(ClientError):
    """No record of that name is held by this replica."""


class RecordError(ClientError):
    """A records API call that cannot be carried out: unknown type, bad name, wrong root or field."""


class SyncFailed(ClientError):
    """Syncing cannot go on: the hub refused for good, or the client gave up reconnecting.

    ``code`` is a ``sync.protocol.codes.ErrorCode`` value (or ``gave_up``); ``document`` the document refused,
    when the refusal is about one. The waits (``SyncClient.wait_synced``, ``wait_for``) raise it at once
    instead of running into their timeout.
    """

    def __init__(self, code: str, message: str, *, document: str | None = None) -> None:
        text = message if message.startswith(code) else f"{code}: {message}"  # a denial's reason starts with it
        super().__init__(text + (f" ({document})" if document else ""))
        self.code = code
        self.message = message
        self.document = document


class AuthRejected(SyncFailed):
    """The hub refused the token itself (``token_invalid``, ``token_expired``, ``tenant_mismatch``...).

    The client stops reconnecting when it receives one: retrying cannot help until the app supplies a new
    token with ``SyncClient.set_token``. With a token provider, a token the hub had accepted and then ended
    (it expired) is replaced from the provider at once instead; one refused outright stops the client too.
    ``forbidden`` for every document before any was accepted is reported as one as well (the token's roles
    reach nothing).
    """

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(code, reason)
        self.reason = reason


class SyncTimeout(ClientError, TimeoutError):
    """A wait ran out of time; the message says what was still pending and the last error."""

    def __init__(self, message: str, *, pending: dict[str, int], unsynced: list[str],
                 last_error: SyncError | None) -> None:
        super().__init__(message)
        self.pending = pending
        """Unacknowledged outbox entries per document."""
        self.unsynced = unsynced
        """Documents not in sync (all followed ones while offline)."""
        self.last_error = last_error


class LinkDead(ClientError):
    """Nothing was received from the hub for longer than the heartbeat timeout."""


class HubProtocolError(ClientError):
    """The hub sent something that is not a valid frame."""


class DeviceRevoked(ClientError):
    """An administrator revoked this device: the hub refuses it until it is restored. The client keeps every
    unsent edit and tries again after its backoff, so a restore lets them through."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
