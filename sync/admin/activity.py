"""What the admin API reports that the hub does not keep itself: last writes of rooms, refusals by code.

An extension: ``update_committed`` stamps each committed document with the time (one dictionary write per
entry), ``refusal_sent`` counts per tenant and code, ``document_unloaded`` forgets the room.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sync.hooks import Document, Extension
from sync.store import LogEntry

__all__ = ["Activity"]


class Activity(Extension):
    name = "admin-activity"

    def __init__(self) -> None:
        self.last_write: dict[tuple[str, str], float] = {}
        self.refusals: dict[str, Counter[str]] = {}

    def update_committed(self, entries: Sequence[LogEntry]) -> None:
        now = time.time()
        last_write = self.last_write
        for entry in entries:
            last_write[(entry.tenant, entry.name)] = now

    def document_unloaded(self, room: Document) -> None:
        self.last_write.pop((room.tenant, room.name), None)

    def refusal_sent(self, connection: Any, name: str, code: str) -> None:
        principal = connection.principal
        tenant = principal.tenant if principal is not None else ""
        counts = self.refusals.get(tenant)
        if counts is None:
            counts = self.refusals[tenant] = Counter()
        counts[code] += 1
