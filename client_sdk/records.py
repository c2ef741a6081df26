"""The records API: work orders, warranty claims, policies and insurance claims, fully offline.

Every call is one local edit (``LocalReplica.edit``): committed with its outbox entry and projection before
it returns, whether or not the device is online. Scalar writes go through ``conflict.write_field`` and list
appends through ``conflict.append_entry``, so each carries its HLC time, author and roles, which the hub's
merge policies decide by.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from pycrdt import Doc, Text

from client_sdk.errors import RecordError, RecordNotFound
from client_sdk.events import RecordChange, RecordView
from client_sdk.names import record_name, record_type
from client_sdk.replica import DELETED_FIELD, LocalReplica
from conflict import (
    CLOCKS_ROOT,
    RECORD_ROOT,
    RECORD_TYPES,
    DocumentContent,
    RecordType,
    append_entry,
    read_document,
    write_field,
)

#: List roots only the hub appends to (status changes it accepted).
HUB_OWNED_LISTS = frozenset({"history"})


class Records:
    """Read and write records of one replica as one user (``user`` and ``roles`` come from the token)."""

    def __init__(self, replica: LocalReplica, *, user: str, roles: Iterable[str]) -> None:
        self.replica = replica
        self.user = user
        self.roles = frozenset(roles)

    # -- helpers -------------------------------------------------------------------------------------

    @staticmethod
    def _check_field(kind: RecordType, field: str) -> None:
        if not isinstance(field, str) or not field or "@" in field:
            raise RecordError(f"{field!r} is not a field name")
        if field in kind.list_roots or field in kind.text_roots or field in (RECORD_ROOT, CLOCKS_ROOT):
            raise RecordError(f"{kind.name}.{field} is not a scalar field: use append or edit_text")

    def _write(self, doc: Doc, kind: RecordType, fields: Mapping[str, Any]) -> None:
        for field, value in fields.items():
            self._check_field(kind, field)
            write_field(doc, field, value, clock=self.replica.hlc, user=self.user, roles=self.roles,
                        keep_path=field == kind.status_field)

    async def _view(self, name: str) -> RecordView:
        view = await self.replica.get(name)
        if view is None:
            raise RecordNotFound(name)
        return view

    # -- writing -------------------------------------------------------------------------------------

    async def create(self, record_type: str, record_id: str, fields: Mapping[str, Any] | None = None, *,
                     texts: Mapping[str, str] | None = None) -> RecordView:
        """Create record ``{record_type}:{record_id}`` with scalar ``fields`` and long ``texts``; it is followed."""
        if record_type not in RECORD_TYPES:
            raise RecordError(f"unknown record type {record_type!r}; known: {', '.join(sorted(RECORD_TYPES))}")
        name = record_name(record_type, record_id)
        kind = RECORD_TYPES[record_type]
        if not fields and not texts:
            raise RecordError("a new record needs at least one field or text")  # an empty one would not exist
        for root in texts or {}:
            if root not in kind.text_roots:
                raise RecordError(f"{record_type}.{root} is not a text field")
        if await self.replica.exists(name):
            raise RecordError(f"{name} already exists")

        def change(doc: Doc) -> None:
            self._write(doc, kind, fields or {})
            for root, value in (texts or {}).items():
                doc.get(root, type=Text).insert(0, value)

        await self.replica.edit(name, change, create=True)
        return await self._view(name)

    async def set(self, name: str, fields: Mapping[str, Any] | None = None, /, **more: Any) -> RecordView:
        """Set scalar fields (``None`` removes one); each write is stamped with this device's HLC time."""
        kind = record_type(name)
        values = {**(fields or {}), **more}
        await self.replica.edit(name, lambda doc: self._write(doc, kind, values))
        return await self._view(name)

    async def append(self, name: str, root: str, entry: Mapping[str, Any] | Any) -> dict[str, Any]:
        """Append ``entry`` to list ``root`` (notes, tasks, parts_used...); returns the stamped entry.

        An entry whose ``id`` matches an existing item is that item's new version.
        """
        kind = record_type(name)
        if root not in kind.list_roots:
            raise RecordError(f"{kind.name}.{root} is not a list; lists: {', '.join(kind.list_roots)}")
        if root in HUB_OWNED_LISTS:
            raise RecordError(f"{kind.name}.{root} is written by the hub only")
        return await self.replica.edit(
            name, lambda doc: append_entry(doc, root, entry, clock=self.replica.hlc, user=self.user)
        )

    async def edit_text(self, name: str, root: str, *, index: int | None = None, delete: int = 0,
                        insert: str = "") -> str:
        """Splice long text ``root``: remove ``delete`` characters at ``index``, then insert ``insert`` there.

        ``index`` defaults to the end. Concurrent splices by others merge character by character. Returns the
        new text.
        """
        kind = record_type(name)
        if root not in kind.text_roots:
            raise RecordError(f"{kind.name}.{root} is not a text field")

        def change(doc: Doc) -> str:
            text = doc.get(root, type=Text)
            length = len(text)
            at = length if index is None else index
            if not 0 <= at <= length or delete < 0 or at + delete > length:
                raise RecordError(f"splice at {at} removing {delete} is outside a text of {length} characters")
            if delete:
                del text[at:at + delete]
            if insert:
                text.insert(at, insert)
            return str(text)

        return await self.replica.edit(name, change)

    async def delete(self, name: str) -> RecordView:
        """Delete a record: a tombstone field, so every replica and the hub learn it; queries skip it."""
        kind = record_type(name)
        await self.replica.edit(name, lambda doc: self._write(doc, kind, {DELETED_FIELD: True}))
        return await self._view(name)

    # -- reading -------------------------------------------------------------------------------------

    async def open(self, name: str) -> RecordView:
        """The record as this replica holds it; ``RecordNotFound`` when it holds none."""
        return await self._view(name)

    async def content(self, name: str) -> DocumentContent:
        """The raw roots: scalar fields, their stamps, every version of every list entry, texts."""
        kind = record_type(name)
        return await self.replica.read(name, lambda doc: read_document(doc, kind))

    async def query(self, *, type: str | None = None, status: str | None = None, assignee: str | None = None,
                    updated_since: datetime | None = None, include_deleted: bool = False,
                    limit: int | None = None, scope: str | None = None,
                    scope_params: Mapping[str, str] | None = None) -> list[RecordView]:
        """Local records matching every given filter (offline too), oldest change first.

        ``scope`` keeps the members of a followed sync scope: of every subscription of that scope, or with
        ``scope_params`` of the one with exactly those params. ``RecordError`` when no such scope is followed.
        """
        return await self.replica.query(type=type, status=status, assignee=assignee, updated_since=updated_since,
                                        include_deleted=include_deleted, limit=limit, scope=scope,
                                        scope_params=scope_params)

    def on_change(self, callback: Callable[[RecordChange], Any]) -> Callable[[], None]:
        """Call ``callback`` once per committed change, local or remote; returns a function that removes it."""
        return self.replica.on_change.add(callback)
