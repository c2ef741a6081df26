"""What one node shows the others of itself: its sockets and rooms, every tenant's, bounded in size.

A snapshot is at most ``MAX_CONNECTIONS`` sockets (the oldest), each listing its first ``MAX_DOCUMENTS``
documents, and ``MAX_ROOMS`` rooms (by tenant and name): under about a megabyte however busy the node,
posted every second. ``truncated`` says when the node holds more than it lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import msgspec

from sync.admin.views import ConnectionView, RoomView

__all__ = ["MAX_CONNECTIONS", "MAX_DOCUMENTS", "MAX_ROOMS", "NodeSnapshot", "decode", "encode", "take"]

MAX_CONNECTIONS = 500
MAX_DOCUMENTS = 50
MAX_ROOMS = 1000


class NodeSnapshot(msgspec.Struct, kw_only=True):
    node: str
    at: datetime
    connections: dict[str, list[ConnectionView]]
    """By tenant."""
    rooms: dict[str, list[RoomView]]
    """By tenant."""
    truncated: bool = False


def take(node: str, at: datetime, connections: Iterable[tuple[str, ConnectionView]],
         rooms: Iterable[tuple[str, RoomView]]) -> NodeSnapshot:
    """The snapshot of ``(tenant, view)`` pairs, cut to the limits above."""
    listed = sorted(connections, key=lambda pair: pair[1].since)
    placed = sorted(rooms, key=lambda pair: (pair[0], pair[1].document))
    truncated = len(listed) > MAX_CONNECTIONS or len(placed) > MAX_ROOMS
    snapshot = NodeSnapshot(node=node, at=at, connections={}, rooms={})
    for tenant, view in listed[:MAX_CONNECTIONS]:
        if len(view.documents) > MAX_DOCUMENTS:
            view = msgspec.structs.replace(view, documents=view.documents[:MAX_DOCUMENTS])
            truncated = True
        snapshot.connections.setdefault(tenant, []).append(view)
    for tenant, room in placed[:MAX_ROOMS]:
        snapshot.rooms.setdefault(tenant, []).append(room)
    snapshot.truncated = truncated
    return snapshot


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(NodeSnapshot)


def encode(snapshot: NodeSnapshot) -> bytes:
    return _encoder.encode(snapshot)


def decode(data: bytes) -> NodeSnapshot:
    """Raises ``msgspec.DecodeError`` (or ``ValidationError``) for bytes that are not a snapshot."""
    return _decoder.decode(data)
