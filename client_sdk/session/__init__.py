"""One connection to the hub: the socket, and the sync of every followed document and scope over it.

``hub_socket`` (``Connection``: ordered sends, decoded frames, heartbeat), ``device_session``
(``DeviceSession``: every document's exchange and outbox flow), ``link`` (one document's state machine),
``scope_channel`` (the ``$scopes`` control document), ``refusals`` (what each refusal code means for the
device), ``context`` (what they share). ``SyncClient`` runs one session per connection.
"""

from __future__ import annotations

from client_sdk.session.context import SessionContext
from client_sdk.session.device_session import DeviceSession
from client_sdk.session.hub_socket import OPEN_ERRORS, Connection, Traffic
from client_sdk.session.refusals import TOKEN_CODES

__all__ = ["OPEN_ERRORS", "TOKEN_CODES", "Connection", "DeviceSession", "SessionContext", "Traffic"]
