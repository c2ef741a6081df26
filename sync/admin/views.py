"""What the admin API answers, as plain msgspec Structs (the server renders them and documents their schema)."""

from __future__ import annotations

from datetime import datetime

import msgspec

__all__ = [
    "CompactionView", "ConflictCount", "ConnectionView", "ConnectionsView", "CountsView", "DevicePage",
    "DeviceScopesView", "DeviceView", "NodeView", "RevocationView", "RoomView", "RoomsView", "ScopeMembershipView",
    "TrafficView", "UnloadView",
]


class TrafficView(msgspec.Struct, kw_only=True):
    """Frames and bytes of one direction, in total and per message type (types that saw none are left out)."""

    frames: int
    bytes: int
    frames_by_type: dict[str, int]


class ConnectionView(msgspec.Struct, kw_only=True):
    """One socket on a hub node."""

    id: str
    """``<node>-<n>``: the same id as in the hub's log lines."""
    node: str
    user: str
    device: str
    client_version: str
    """What the client's Auth said about itself (Hocuspocus providers send their version); empty if nothing."""
    since: datetime
    last_activity: datetime
    """When the last frame was received, to within a second."""
    documents: list[str]
    """Documents authenticated on the socket (``$scopes`` included); another node's socket lists its first 50."""
    received: TrafficView
    sent: TrafficView
    acks_pending: int
    """Updates received whose SyncStatus has not been sent yet (waiting for their commit)."""
    acks_sent: int
    refusals_sent: int
    """SyncStatus(false) sent."""


class RoomView(msgspec.Struct, kw_only=True):
    """One document in a node's memory (a document loaded on two nodes has a room on each)."""

    document: str
    node: str
    """The hub node whose memory holds it."""
    subscribers: int
    size_bytes: int
    """The document's state encoded as one update."""
    log_length: int
    """Log entries since its snapshot (compaction folds them into it)."""
    last_write: datetime | None
    """The last commit of an update to it since it was loaded; ``None`` if none."""
    pending_writes: int


class NodeView(msgspec.Struct, kw_only=True):
    """A hub node whose entries an answer holds."""

    node: str
    local: bool
    """The node that answered the request: its entries are its live state, the others' a snapshot."""
    at: datetime
    """When its entries were taken (the others refresh theirs every second)."""
    truncated: bool = False
    """The node holds more than its snapshot lists (over 500 sockets or 1,000 rooms; a socket's first 50
    documents only): its entries are a part."""


class ConnectionsView(msgspec.Struct, kw_only=True):
    """The tenant's sockets on every hub node that answered, oldest first."""

    nodes: list[NodeView]
    connections: list[ConnectionView]
    partial: str | None = None
    """Why other nodes may be missing (Redis did not answer); ``None`` when every live node's entries are here."""


class RoomsView(msgspec.Struct, kw_only=True):
    """The tenant's documents in the memory of every hub node that answered, by document, then node."""

    nodes: list[NodeView]
    rooms: list[RoomView]
    partial: str | None = None
    """Why other nodes may be missing (Redis did not answer); ``None`` when every live node's entries are here."""


class DeviceView(msgspec.Struct, kw_only=True):
    """A device as the hub recorded it, and how many sockets it has open."""

    device: str
    user: str
    first_seen: datetime
    last_seen: datetime
    client_version: str
    last_sync: datetime | None
    """The last time the hub acknowledged an update of this device."""
    documents: list[str]
    scopes: list[str]
    revoked: bool
    revoked_at: datetime | None
    revoked_by: str | None
    connections: int
    """Its sockets on every node: this node's now, the others' as of their last snapshot (a second old at most)."""


class DevicePage(msgspec.Struct, kw_only=True):
    """One page of devices; ask for the next with ``after=<next>`` (absent on the last page)."""

    devices: list[DeviceView]
    next: str | None = None


class ScopeMembershipView(msgspec.Struct, kw_only=True):
    """One scope subscription of one of the device's sockets."""

    connection: str
    id: str
    scope: str
    params: dict[str, str]
    version: int
    members: list[str]


class DeviceScopesView(msgspec.Struct, kw_only=True):
    """What a device follows: its live subscriptions on this node, and the scopes last recorded for it."""

    device: str
    live: list[ScopeMembershipView]
    recorded: list[str]


class RevocationView(msgspec.Struct, kw_only=True):
    """The device after a revoke or restore; ``closed`` counts the sockets of it this node closed."""

    device: DeviceView
    closed: int = 0


class CompactionView(msgspec.Struct, kw_only=True):
    document: str
    folded: int
    """Log entries folded into the snapshot by this request."""
    log_length: int
    """Entries left in the log afterwards."""


class UnloadView(msgspec.Struct, kw_only=True):
    document: str
    unloaded: bool


class ConflictCount(msgspec.Struct, kw_only=True):
    kind: str
    """``conflict`` or ``violation``."""
    code: str | None
    status: str
    count: int


class CountsView(msgspec.Struct, kw_only=True):
    """Refusals sent by this node since it started, by code, and the tenant's stored conflicts."""

    refusals: dict[str, int]
    conflicts: list[ConflictCount]
