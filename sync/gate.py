"""The access gate: what one token may do with one loaded document, now, from the access rules and the record.

Consulted when a document is authenticated on a connection, and again whenever a change of the record moves
a field the rules read (an assignment, a team, a customer): ``AccessWatch``, an extension on the
``document_changed`` hook, asks every subscriber of the room to check its access again when ``changed`` says so,
whether the change was merged here or came from another node.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pycrdt import Map

from conflict import RECORD_ROOT
from conflict.copies import plain
from sync.access import Access, AccessRules, Principal, Scope, parse_name, scope_for
from sync.documents.room import Room
from sync.errors import AuthError
from sync.hooks import Extension
from sync.protocol.codes import ErrorCode

__all__ = ["AccessGate", "AccessWatch", "record_empty", "record_of"]

Acquire = Callable[[str, str], Awaitable[Room]]


def record_of(room: Room) -> dict[str, Any] | None:
    """The record map of ``room`` as plain data; ``None`` while the record has not been created."""
    record = plain(room.doc.get(RECORD_ROOT, type=Map))
    return record or None


def record_empty(room: Room) -> bool:
    """True while the record has no field (cheap: no copy)."""
    return len(room.doc.get(RECORD_ROOT, type=Map)) == 0


class AccessGate:
    """Access decisions over loaded rooms."""

    def __init__(self, rules: AccessRules, acquire: Acquire) -> None:
        self.rules = rules
        self._acquire = acquire

    async def open(self, principal: Principal, name: str) -> tuple[Access, Room]:
        """The access ``principal`` gets on document ``name`` and its room; ``AuthError`` when it gets none.

        The same refusal answers a record that exists out of reach and one that does not exist and may not be
        created by this token, so a refusal never tells whether a record exists.
        """
        scope_for(principal, name)  # a known record type, and a companion's reader roles
        parsed = parse_name(name)
        room = await self._acquire(principal.tenant, name)
        if parsed.part is None:
            access = self.decide(principal, room)
        else:
            main = await self._acquire(principal.tenant, f"{parsed.record_type}:{parsed.record_id}")
            access = self._companion(self.decide(principal, main))
        if access.scope is None:
            raise AuthError(ErrorCode.FORBIDDEN, f"this token may not open {name[:80]}")
        return access, room

    def decide(self, principal: Principal, room: Room) -> Access:
        """The access ``principal`` has on the record in ``room`` as it is now."""
        parsed = parse_name(room.name)
        if parsed.part is not None:  # a companion follows its record, which the caller checked on open
            return Access(Scope.READ_WRITE)
        return self.rules.decide(principal, parsed.record_type, record_of(room))

    @staticmethod
    def _companion(main: Access) -> Access:
        # a companion of a record the token reads (or may create): its own roles (checked above) decide the rest
        return Access(main.scope)

    def changed(self, room: Room) -> bool:
        """True when a field the rules read changed since the last call for ``room`` (the first call: False).

        Runs after every merge: the fields to read are worked out once per room.
        """
        fields = room.access_fields
        if fields is None:
            parsed = parse_name(room.name)
            fields = () if parsed.part is not None else tuple(sorted(self.rules.fields.get(parsed.record_type, ())))
            room.access_fields = fields
        if not fields:
            return False
        record = room.doc.get(RECORD_ROOT, type=Map)
        key = tuple(_read(record, field) for field in fields)
        before, room.access_key = room.access_key, key
        return before is not None and before != key

def _read(record: Map, field: str) -> Any:
    value = record.get(field)
    return plain(value) if isinstance(value, Map) else value


class AccessWatch(Extension):
    """After any change of a room: if a field the access rules read moved, every subscriber checks again
    (``Session.recheck``: a link that lost access is denied, one whose scope changed is told its new scope)."""

    name = "access"

    def __init__(self, gate: AccessGate) -> None:
        self._gate = gate

    def document_changed(self, room: Room) -> None:
        if self._gate.changed(room):
            for subscriber in list(room.subscribers):
                subscriber.recheck(room)
