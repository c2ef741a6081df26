"""The hub's referee: holds every client write of a record to the domain rules.

The write path (``sync.write``) applies a client's update while the room's ``RecordWatch`` notes what it
changed; the referee then asks ``RecordRules`` for a decision, makes the hub's corrections on the room's
document (``HubWriter``), queues the conflicts and violations for the store (and tells the hooks), and
returns the correction's update for the write path to send and store.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence

from conflict import DomainError, record_type_for
from conflict.outcome import Author
from sync.referee.conflicts import ConflictQueue, outcome_rows
from sync.referee.corrections import HubWriter, hub_clock
from sync.documents.room import Room
from conflict.codes import ViolationCode
from conflict.outcome import Violation
from conflict.rules import RecordRules
from conflict.unwritable import undo
from sync.store import ConflictRecord, ConflictStore
from conflict.change import Change
from sync.documents.watch import RecordWatch

log = logging.getLogger(__name__)


class Referee:
    """Rules, the hub's writer and the queue of conflicts, for one hub node."""

    def __init__(
        self, node_id: str, store: ConflictStore, *, on_recorded: Callable[[Sequence[ConflictRecord]], None] | None = None
    ) -> None:
        self.rules = RecordRules()
        self._on_recorded = on_recorded
        self.writer = HubWriter(hub_clock(node_id))
        self.conflicts = ConflictQueue(store)

    @staticmethod
    def watch(room: Room) -> None:
        """Start observing a loaded room, when its document is a record this hub knows."""
        try:
            room.watch = RecordWatch(room.doc, record_type_for(room.name))
        except DomainError:
            room.watch = None  # merged and stored, never judged

    def judge(
        self, room: Room, change: Change, author: Author, update: bytes, writable: frozenset[str] | None = None,
        *, undo_all: ViolationCode | None = None,
    ) -> tuple[bytes | None, tuple[Violation, ...]]:
        """Decide on one merged update; the hub's correction (already applied to the room) and the violations.

        ``undo_all`` undoes the whole update and reports it with that code, whatever the rules would say.
        """
        watch = room.watch
        if watch is None or change.empty:
            return None, ()
        update_id = hashlib.blake2b(update, digest_size=10).hexdigest()
        try:
            now_ms = self.writer.clock.wall_ms()
            if undo_all is not None:
                outcome = undo(watch.record_type, change, author, update_id, undo_all)
            else:
                outcome = self.rules.evaluate(watch.record_type, change, author, update_id, writable, now_ms=now_ms)
            correction = self.writer.apply(room.doc, outcome)
        except Exception:  # fail closed for this one update: what it changed is undone, its author told
            log.exception("the domain rules failed on an update of %s/%s; undoing it", room.tenant, room.name)
            outcome = undo(watch.record_type, change, author, update_id)
            try:
                correction = self.writer.apply(room.doc, outcome)
            except Exception:
                log.exception("undoing an unjudged update of %s/%s failed", room.tenant, room.name)
                correction = None
        rows = outcome_rows(room.tenant, room.name, outcome, self.writer.now())
        if rows:
            self.conflicts.add(rows)
            if self._on_recorded is not None:
                self._on_recorded(rows)
        return correction, outcome.violations
