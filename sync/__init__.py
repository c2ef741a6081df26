"""The sync engine: what the server (and an embedding application) may use of it.

The device SDK imports only ``sync.protocol``; importing that must not load the hub, the store or its
drivers, so the names below are imported on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync.access import READONLY_ROLES, WRITER_ROLES, Principal, Scope, TokenVerifier, scope_for
    from sync.bus import Bus, BusMessage, InProcessBus
    from sync.cache import Cache, CacheError, CacheInvalidation, InProcessCache, RedisCache
    from sync.config import HubConfig
    from sync.connection import Session, Transport
    from sync.errors import AuthError, ConfigError, FieldsyncError, LimitExceeded, ProtocolError, ReviewError, StoreError
    from sync.hooks import Extension
    from sync.hub import Hub
    from sync.protocol.codes import CloseCode, ErrorCode
    from sync.scopes import DEFAULT_SCOPES_FILE, ScopeRegistry, load_definitions
    from sync.store import (
        LISTING_SORTS, ConflictRecord, ListedRecord, Projection, RecordFilter, RecordListing, RecordOrder, ReportGroup,
        ReportRow, SqlStore, Store,
        upgrade,
    )

_FACE = {
    "READONLY_ROLES": "sync.access", "WRITER_ROLES": "sync.access", "Principal": "sync.access", "Scope": "sync.access",
    "TokenVerifier": "sync.access", "scope_for": "sync.access",
    "Bus": "sync.bus", "BusMessage": "sync.bus", "InProcessBus": "sync.bus",
    "Cache": "sync.cache", "CacheError": "sync.cache", "CacheInvalidation": "sync.cache",
    "InProcessCache": "sync.cache", "RedisCache": "sync.cache",
    "HubConfig": "sync.config",
    "Session": "sync.connection", "Transport": "sync.connection",
    "AuthError": "sync.errors", "ConfigError": "sync.errors", "FieldsyncError": "sync.errors",
    "LimitExceeded": "sync.errors", "ProtocolError": "sync.errors", "ReviewError": "sync.errors",
    "StoreError": "sync.errors",
    "Extension": "sync.hooks",
    "Hub": "sync.hub",
    "CloseCode": "sync.protocol.codes", "ErrorCode": "sync.protocol.codes",
    "DEFAULT_SCOPES_FILE": "sync.scopes", "ScopeRegistry": "sync.scopes", "load_definitions": "sync.scopes",
    "SqlStore": "sync.store", "Store": "sync.store", "upgrade": "sync.store",
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
