"""The SDK's exceptions: one root, one subclass per kind of failure the app can act on."""

from __future__ import annotations


class ClientError(Exception):
    """Root of every error the device SDK raises on purpose."""


class ReplicaError(ClientError):
    """The local SQLite replica could not be read or written; the edit was not applied."""


class RecordNotFound(ClientError):
    """No record of that name is held by this replica."""


class RecordError(ClientError):
    """A records API call that cannot be carried out: unknown type, bad name, wrong root or field."""


class AuthRejected(ClientError):
    """The hub refused the token itself (``code`` is a ``sync.protocol.codes.ErrorCode`` value).

    The client stops reconnecting when it receives one: retrying cannot help until the app supplies a new
    token with ``SyncClient.set_token``.
    """

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class LinkDead(ClientError):
    """Nothing was received from the hub for longer than the heartbeat timeout."""


class HubProtocolError(ClientError):
    """The hub sent something that is not a valid frame."""
