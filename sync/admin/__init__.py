"""Operators' view of a hub node and their actions: connections, rooms, devices, revocation, counts.

``Admin`` is built before the hub (its extensions and token check go into ``Hub(...)``) and bound to it after;
the server's admin routes call it for the tenant of the admin's token.
"""

from __future__ import annotations

from sync.admin.revocation import REVOKED_REASON, RevocationCheck, Revocations
from sync.admin.service import Admin
from sync.admin.views import (
    CompactionView, ConflictCount, ConnectionView, CountsView, DevicePage, DeviceScopesView, DeviceView,
    RevocationView, RoomView, ScopeMembershipView, TrafficView, UnloadView,
)

__all__ = [
    "REVOKED_REASON", "Admin", "CompactionView", "ConflictCount", "ConnectionView", "CountsView", "DevicePage",
    "DeviceScopesView", "DeviceView", "RevocationCheck", "RevocationView", "Revocations", "RoomView",
    "ScopeMembershipView", "TrafficView", "UnloadView",
]
