"""Extensions: the hub's events, raised to a small ordered list of listeners (Hocuspocus's extensions).

The hub raises an event where something happens (a socket opened, a document authenticated or loaded, an
document changed, an update committed, a client's awareness changed, a conflict recorded, a refusal sent); features that react
to it (the bus, projections, compaction, and later metrics, the admin registry, cache invalidation) are
``Extension`` subclasses that override the methods they need, instead of code written into the hub.

Rules for an extension: a hook runs on the hot path, synchronously, so it only records or queues (slow work
belongs in ``run``, a task the hub owns for its lifetime); hooks run in the order the extensions were given;
a hook that raises is logged and skipped, and never delays or loses an acknowledgement or another hook.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence, Set
from typing import Any, Protocol

from sync.access import Principal, Scope
from sync.store import ConflictRecord, LogEntry

__all__ = ["EVENTS", "Document", "Extension", "Hooks"]

log = logging.getLogger(__name__)


class Document(Protocol):
    """A loaded document as hooks see it (a ``sync.documents.Room``)."""

    tenant: str
    name: str


class Extension:
    """A feature attached to the hub's events. Every method is optional: the defaults do nothing."""

    #: Shown in logs when a hook fails.
    name = "extension"

    async def run(self) -> None:
        """Background work for the hub's lifetime (a task the hub owns and cancels at shutdown)."""

    async def flush(self) -> None:
        """Finish pending work at shutdown, after the last update was committed."""

    def connection_opened(self, connection: Any) -> None:
        """A socket was accepted (``connection`` is a ``sync.connection.Session``)."""

    def connection_closed(self, connection: Any) -> None:
        """A socket ended, whoever closed it."""

    def document_authenticated(self, connection: Any, name: str, principal: Principal, scope: Scope) -> None:
        """``connection`` may now use document ``name`` with ``scope``."""

    def document_loaded(self, room: Document) -> None:
        """A room was built from the store; it becomes visible to callers right after the hooks ran."""

    def document_unloaded(self, room: Document) -> None:
        """An idle room was dropped from memory."""

    def document_changed(self, room: Document) -> None:
        """The content of ``room`` changed: a client's update merged here (after the referee's correction), or
        an update from another node applied. Raised before the change is durable."""

    def update_committed(self, entries: Sequence[LogEntry]) -> None:
        """Updates were durably stored, in commit order (their acknowledgements are on their way)."""

    def awareness_changed(self, room: Document, entries: Sequence[Any]) -> None:
        """A local client's awareness changed in ``room`` (``entries``: ``sync.protocol.AwarenessEntry``), or
        a local connection left and its clients were removed. Never raised for other nodes' awareness."""

    def projections_saved(self, tenants: Set[str]) -> None:
        """Projections of records of ``tenants`` were written by this node (queries over them see the change)."""

    def conflict_recorded(self, rows: Sequence[ConflictRecord]) -> None:
        """The referee found conflicts or violations (queued for the store)."""

    def refusal_sent(self, connection: Any, name: str, code: str) -> None:
        """``connection`` was refused something on document ``name`` (a notice, a denial, a failed status)."""


#: The hook methods, in the order the write path meets them.
EVENTS = (
    "connection_opened", "connection_closed", "document_authenticated", "document_loaded", "document_unloaded",
    "document_changed", "update_committed", "awareness_changed", "projections_saved", "conflict_recorded", "refusal_sent",
)


class Hooks:
    """The hub's extensions in order; each event calls only the extensions that override it."""

    def __init__(self, extensions: Iterable[Extension] = ()) -> None:
        self.extensions: list[Extension] = []
        self._listeners: dict[str, list[Any]] = {event: [] for event in EVENTS}
        for extension in extensions:
            self.add(extension)

    def add(self, extension: Extension) -> None:
        """Attach ``extension`` after the ones already attached."""
        self.extensions.append(extension)
        for event in EVENTS:
            method = getattr(type(extension), event)
            if method is not getattr(Extension, event):
                self._listeners[event].append(getattr(extension, event))

    def _emit(self, event: str, *args: Any) -> None:
        for listener in self._listeners[event]:
            try:
                listener(*args)
            except Exception:  # one faulty extension must not cost an update its ack, or the others their hook
                log.exception("extension hook %s of %s failed", event, getattr(listener.__self__, "name", "?"))

    def connection_opened(self, connection: Any) -> None:
        self._emit("connection_opened", connection)

    def connection_closed(self, connection: Any) -> None:
        self._emit("connection_closed", connection)

    def document_authenticated(self, connection: Any, name: str, principal: Principal, scope: Scope) -> None:
        self._emit("document_authenticated", connection, name, principal, scope)

    def document_loaded(self, room: Document) -> None:
        self._emit("document_loaded", room)

    def document_unloaded(self, room: Document) -> None:
        self._emit("document_unloaded", room)

    def document_changed(self, room: Document) -> None:
        self._emit("document_changed", room)

    def update_committed(self, entries: Sequence[LogEntry]) -> None:
        self._emit("update_committed", entries)

    def awareness_changed(self, room: Document, entries: Sequence[Any]) -> None:
        self._emit("awareness_changed", room, entries)

    def projections_saved(self, tenants: Set[str]) -> None:
        self._emit("projections_saved", tenants)

    def conflict_recorded(self, rows: Sequence[ConflictRecord]) -> None:
        if rows:
            self._emit("conflict_recorded", rows)

    def refusal_sent(self, connection: Any, name: str, code: str) -> None:
        self._emit("refusal_sent", connection, name, code)
