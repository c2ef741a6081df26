"""Operators' view of the hub nodes and their actions: connections, rooms, devices, revocation, counts.

``Admin`` is built before the hub (its extensions and token check go into ``Hub(...)``) and bound to it after;
the server's admin routes call it for the tenant of the admin's token. With several nodes, each posts its
sockets and rooms to a board (``RedisBoard``) that the node asked reads the others' from.
"""

from __future__ import annotations

from sync.admin.revocation import REVOKED_REASON, RevocationCheck, Revocations
from sync.admin.nodes import InProcessBoard, NodeBoard, RedisBoard
from sync.admin.service import Admin
from sync.admin.views import (
    CompactionView, ConflictCount, ConnectionsView, ConnectionView, CountsView, DevicePage, DeviceScopesView,
    DeviceView, NodeView, RevocationView, RoomsView, RoomView, ScopeMembershipView, TrafficView, UnloadView,
)

__all__ = [
    "REVOKED_REASON", "Admin", "CompactionView", "ConflictCount", "ConnectionView", "ConnectionsView", "CountsView",
    "DevicePage", "DeviceScopesView", "DeviceView", "InProcessBoard", "NodeBoard", "NodeView", "RedisBoard",
    "RevocationCheck", "RevocationView", "Revocations", "RoomView", "RoomsView", "ScopeMembershipView",
    "TrafficView", "UnloadView",
]
