"""Persistence of documents, their update log, their projections and conflicts (see DESIGN.md section 6)."""

from __future__ import annotations

from sync.store.base import ConflictRecord, LogEntry, Projection, ProjectionChange, Store, StoredDocument
from sync.store.migrate import upgrade
from sync.store.sql import SqlStore

__all__ = [
    "ConflictRecord", "LogEntry", "Projection", "ProjectionChange", "SqlStore", "Store", "StoredDocument", "upgrade",
]
