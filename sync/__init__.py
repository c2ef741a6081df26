"""The sync engine: what the server (and an embedding application) may use of it.

The device SDK imports only ``sync.protocol``; importing that must not load the hub, the store or its
drivers, so the names below are imported on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync.admin import (
        Admin, CompactionView, ConflictCount, ConnectionsView, ConnectionView, CountsView, DevicePage,
        DeviceScopesView, DeviceView, NodeBoard, NodeView, RedisBoard, RevocationView, RoomsView, RoomView,
        ScopeMembershipView, TrafficView, UnloadView,
    )
    from sync.access import (
        DEFAULT_ACCESS_FILE, READONLY_ROLES, WRITER_ROLES, AccessRules, Principal, Scope, TokenVerifier, load_rules,
        scope_for,
    )
    from sync.bus import Bus, InProcessBus, RedisBus
    from sync.cache import Cache, CacheError, CacheInvalidation, InProcessCache, RedisCache
    from sync.config import HubConfig
    from sync.connection import Session, Transport
    from sync.errors import AdminError, AuthError, ConfigError, FieldsyncError, LimitExceeded, ProtocolError, ReviewError, StoreError
    from sync.hooks import Extension
    from sync.hub import Hub
    from sync.metrics import Metrics
    from sync.protocol.codes import CloseCode, ErrorCode
    from sync.scopes import DEFAULT_SCOPES_FILE, ScopeRegistry, load_definitions
    from sync.store import (
        LISTING_SORTS, ConflictRecord, ListedRecord, Projection, RecordFilter, RecordListing, RecordOrder, ReportGroup,
        ReportRow, SqlStore, Store, schema_revisions, upgrade,
    )

_ADMIN = ("Admin", "CompactionView", "ConflictCount", "ConnectionView", "ConnectionsView", "CountsView", "DevicePage",
          "DeviceScopesView", "DeviceView", "NodeBoard", "NodeView", "RedisBoard", "RevocationView", "RoomView",
          "RoomsView", "ScopeMembershipView", "TrafficView", "UnloadView")

_FACE = {
    **dict.fromkeys(_ADMIN, "sync.admin"),
    "READONLY_ROLES": "sync.access", "WRITER_ROLES": "sync.access", "Principal": "sync.access", "Scope": "sync.access",
    "TokenVerifier": "sync.access", "DEFAULT_ACCESS_FILE": "sync.access", "AccessRules": "sync.access",
    "load_rules": "sync.access", "scope_for": "sync.access",
    "Bus": "sync.bus", "InProcessBus": "sync.bus", "RedisBus": "sync.bus",
    "Cache": "sync.cache", "CacheError": "sync.cache", "CacheInvalidation": "sync.cache",
    "InProcessCache": "sync.cache", "RedisCache": "sync.cache",
    "HubConfig": "sync.config",
    "Session": "sync.connection", "Transport": "sync.connection",
    "AdminError": "sync.errors", "AuthError": "sync.errors", "ConfigError": "sync.errors", "FieldsyncError": "sync.errors",
    "LimitExceeded": "sync.errors", "ProtocolError": "sync.errors", "ReviewError": "sync.errors",
    "StoreError": "sync.errors",
    "Extension": "sync.hooks",
    "Hub": "sync.hub",
    "Metrics": "sync.metrics",
    "CloseCode": "sync.protocol.codes", "ErrorCode": "sync.protocol.codes",
    "DEFAULT_SCOPES_FILE": "sync.scopes", "ScopeRegistry": "sync.scopes", "load_definitions": "sync.scopes",
    "SqlStore": "sync.store", "Store": "sync.store", "schema_revisions": "sync.store", "upgrade": "sync.store",
    "LISTING_SORTS": "sync.store", "ConflictRecord": "sync.store", "ListedRecord": "sync.store", "Projection": "sync.store",
    "RecordFilter": "sync.store", "RecordListing": "sync.store", "RecordOrder": "sync.store", "ReportRow": "sync.store",
    "ReportGroup": "sync.store",
}

__all__ = sorted(_FACE)


def __getattr__(name: str) -> Any:
    module = _FACE.get(name)
    if module is None:
        raise AttributeError(f"module 'sync' has no attribute {name!r}")
    return getattr(import_module(module), name)
