"""Persistence of documents, their update log, their projections and conflicts (see ARCHITECTURE.md).

The store is split by concern into small interfaces (``DocumentLog``, ``ProjectionStore``, ``ScopeIndex``,
``ConflictStore``, ``DeviceStore``, ``RecordListing``); a part of the hub asks for the one it uses. ``SqlStore`` implements them all.
"""

from __future__ import annotations

from sync.store.base import Store
from sync.store.conflicts import ConflictStore
from sync.store.devices import DeviceStore
from sync.store.listing import (
    LISTING_SORTS, ListedRecord, RecordFilter, RecordListing, RecordOrder, ReportGroup, ReportRow,
)
from sync.store.log import DocumentLog
from sync.store.migrate import schema_revisions, upgrade
from sync.store.projections import ProjectionStore, ScopeIndex
from sync.store.records import ConflictRecord, DeviceRecord, DeviceSeen, LogEntry, LogPosition, Projection, ProjectionChange, StoredDocument
from sync.store.sql import SqlStore

__all__ = [
    "LISTING_SORTS", "ConflictRecord", "ConflictStore", "DeviceRecord", "DeviceSeen", "DeviceStore", "DocumentLog",
    "ListedRecord", "LogEntry", "LogPosition", "Projection", "ProjectionChange", "ProjectionStore", "RecordFilter", "RecordListing",
    "RecordOrder", "ReportGroup", "ReportRow", "ScopeIndex", "SqlStore", "Store", "StoredDocument", "schema_revisions",
    "upgrade",
]
