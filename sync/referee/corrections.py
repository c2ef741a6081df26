"""The hub's own writes into a record document: corrections, derived fields, review resolutions.

Every call makes one local transaction on the room's document and returns the update it produced, which
the hub broadcasts to every subscriber (the author of the corrected write included) and stores like any
other update. A local transaction continues the hub's own changes, so it never has a gap.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pycrdt import Array, Doc, Map, Text

from conflict.copies import plain
from conflict import (
    CLOCKS_ROOT, RECORD_ROOT, Hlc, RecordType, append_entry, correct_field, restore_text, status_change_entry,
    write_field,
)
from conflict.outcome import Outcome, StatusChange

#: The author the hub's own stamps and list entries name; their roles are the hub's authority.
HUB_USER = "hub"
HUB_ROLES = frozenset({"admin"})
#: Transactions the hub makes carry this origin, so observers can tell them from merged updates.
HUB_ORIGIN = "fieldsync-hub"
#: The derived fields every record type has (``conflict.records.common.Record``).
STATUS_UPDATED_AT = "status_updated_at"
HISTORY = "history"


def hub_clock(node_id: str) -> Hlc:
    """The clock of a hub node's own stamps: a node id of its own, so its stamps never overwrite a device's."""
    return Hlc(f"hub-{node_id}")


class HubWriter:
    """Writes the hub's changes with the hub's clock."""

    def __init__(self, clock: Hlc, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock
        self.now = now

    def apply(self, doc: Doc, outcome: Outcome) -> bytes | None:
        """Make the writes of ``outcome``; the update, or ``None`` when there is nothing to write."""
        if not outcome.writes_anything:
            return None
        clock = self.clock.fresh()  # what this document's stamps make it observe stays with this document

        def write() -> None:
            clocks = doc.get(CLOCKS_ROOT, type=Map)
            for restore in outcome.restores:  # first, so that the hub's stamps below never build on a forged one
                if restore.entry is None:
                    if restore.key in clocks:
                        del clocks[restore.key]
                else:
                    clocks[restore.key] = restore.entry
            for change in outcome.writes:
                if change.resolution is not None:
                    correct_field(doc, change.resolution)
                else:
                    write_field(doc, change.field, change.value, clock=clock, user=HUB_USER, roles=HUB_ROLES)
            for append in outcome.appends:
                if append.stamped:
                    append_entry(doc, append.root, append.entry, clock=clock, user=HUB_USER)
                else:
                    doc.get(append.root, type=Array).append(append.entry)
            for removal in outcome.removals:
                _remove_entry(doc.get(removal.root, type=Array), removal.entry)
            for text in outcome.texts:
                restore_text(doc.get(text.root, type=Text), text.text, text.delta)
            if outcome.status_change is not None:
                self._derive(doc, outcome.status_change, clock)

        return self._transaction(doc, write)

    def resolve(self, doc: Doc, kind: RecordType, field: str, value: Any, *, by: str) -> bytes | None:
        """Write a reviewer's choice for ``field`` under a stamp newer than every write of it, so it wins everywhere.

        A status chosen this way is a status change like any other: it gets its history entry. A text root is
        edited in place to read ``value``.
        """

        clock = self.clock.fresh()

        def write() -> None:
            if field in kind.text_roots:
                restore_text(doc.get(field, type=Text), value)
                return
            record = doc.get(RECORD_ROOT, type=Map)
            old = record.get(field)
            write_field(doc, field, value, clock=clock, user=by, roles=HUB_ROLES)
            if field == kind.status_field and value is not None and value != old:
                self._derive(doc, StatusChange(old, value, by), clock)

        return self._transaction(doc, write)

    def _derive(self, doc: Doc, change: StatusChange, clock: Hlc) -> None:
        at = self.now()
        write_field(doc, STATUS_UPDATED_AT, at, clock=clock, user=HUB_USER, roles=HUB_ROLES)
        entry = status_change_entry(change.old, change.new, by=change.by, at=at)
        append_entry(doc, HISTORY, entry, clock=clock, user=HUB_USER)

    @staticmethod
    def _transaction(doc: Doc, write: Callable[[], None]) -> bytes | None:
        updates: list[bytes] = []
        subscription = doc.observe(lambda event: updates.append(event.update))
        try:
            with doc.transaction(origin=HUB_ORIGIN):
                write()
        finally:
            doc.unobserve(subscription)
        return updates[0] if updates else None


def _remove_entry(entries: Array, entry: dict[str, Any]) -> None:
    """Delete the last entry equal to ``entry`` (the one just appended); nothing when it is not there."""
    for index, value in reversed(list(enumerate(plain(entries) or []))):
        if value == entry:
            del entries[index]
            return
