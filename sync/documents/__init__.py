"""The documents of one hub node: rooms and their registry, awareness, group commit, projections, compaction."""

from __future__ import annotations

from sync.documents.awareness import AwarenessRegistry
from sync.documents.committer import Committer
from sync.documents.compactor import Compactor
from sync.documents.projection import project
from sync.documents.projector import Projector
from sync.documents.registry import LOAD_BATCH, Key, Rooms
from sync.documents.room import Room
from sync.documents.watch import RecordWatch

__all__ = [
    "LOAD_BATCH", "AwarenessRegistry", "Committer", "Compactor", "Key", "Projector", "RecordWatch", "Room", "Rooms",
    "project",
]
