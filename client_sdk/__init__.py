"""The device SDK: a local SQLite replica, a records API that works offline, and a resilient sync client.

A typical app::

    replica = await LocalReplica.open("device.db", device="tablet-3")
    records = Records(replica, user="tech-17", roles=["technician"])
    # fetch_token: an async callable returning a fresh JWT (the app's login); asked again before each expires
    async with SyncClient(replica, "ws://hub:8765/sync", fetch_token) as client:  # or a token string
        client.follow("my_work_orders")  # a sync scope: every open work order of the token's user
        await replica.follow("work_order:WO-1042")  # or one record by name
        await records.set("work_order:WO-1042", status="IN_PROGRESS")  # saved locally at once, sent when online

Imports ``sync.protocol`` (the wire codec), ``sync.protocol.codes`` and ``conflict`` only, never the hub.
"""

from __future__ import annotations

from client_sdk.backoff import Backoff
from client_sdk.config import SyncConfig
from client_sdk.credentials import TokenProvider, token_expiry
from client_sdk.errors import (
    AuthRejected, ClientError, HubProtocolError, LinkDead, RecordError, RecordNotFound, ReplicaError, SyncFailed,
    SyncTimeout,
)
from client_sdk.events import ChangeOrigin, OutboxEntry, RecordChange, RecordView, RejectedEntry
from client_sdk.names import record_name
from client_sdk.records import Records
from client_sdk.replica import LocalReplica, ScopeChange, Subscription, subscription_id
from client_sdk.session import Traffic
from client_sdk.state import (
    Acknowledged,
    ClientStatus,
    Connected,
    Disconnected,
    DocumentSynced,
    ErrorReported,
    ReconnectScheduled,
    ScopeUpdated,
    StateChanged,
    SyncError,
    SyncEvent,
    SyncProgress,
    SyncState,
    TokenRefreshed,
    TokenRefreshFailed,
    WriteRejected,
)
from client_sdk.sync_client import SyncClient

__all__ = [
    "Acknowledged",
    "AuthRejected",
    "Backoff",
    "ChangeOrigin",
    "ClientError",
    "ClientStatus",
    "Connected",
    "Disconnected",
    "DocumentSynced",
    "ErrorReported",
    "HubProtocolError",
    "LinkDead",
    "LocalReplica",
    "OutboxEntry",
    "ReconnectScheduled",
    "RecordChange",
    "RecordError",
    "RecordNotFound",
    "RecordView",
    "Records",
    "RejectedEntry",
    "ReplicaError",
    "ScopeChange",
    "ScopeUpdated",
    "StateChanged",
    "Subscription",
    "SyncClient",
    "SyncConfig",
    "SyncError",
    "SyncEvent",
    "SyncFailed",
    "SyncProgress",
    "SyncState",
    "SyncTimeout",
    "TokenProvider",
    "TokenRefreshFailed",
    "TokenRefreshed",
    "Traffic",
    "WriteRejected",
    "record_name",
    "subscription_id",
    "token_expiry",
]
