"""How a record lives in a pycrdt ``Doc``: reading its roots, and writing by the ``clocks`` convention.

Writes here are in-memory CRDT operations; whoever owns the document sends and stores the resulting updates.
Devices write through ``write_field`` and ``append_entry`` so that every write carries its HLC time; the hub
writes its corrections with ``correct_field`` (the policy's winner is already stamped) or, when it overrides
a value itself (reverting an invalid status), with ``write_field`` under its own node id, and puts back a text
root with ``restore_text``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec
from pycrdt import Array, Doc, Map, Text

from conflict.copies import plain
from conflict.entries import previous_version
from conflict.errors import DomainError
from conflict.hlc import Hlc, HlcTimestamp
from conflict.names import parse_document_name
from conflict.projection import ProjectionFields, project
from conflict.records.registry import RecordType, lookup_record_type
from conflict.resolution import FieldResolution
from conflict.stamps import CLOCKS_ROOT, RECORD_ROOT, FieldStamp, make_stamp, parse_clocks


class DocumentContent(msgspec.Struct, frozen=True):
    """Plain-Python copies of a record document's roots."""

    record: dict[str, Any]
    clocks: dict[str, Any]
    lists: dict[str, list[Any]]
    texts: dict[str, str]


def read_document(doc: Doc, record_type: RecordType | None, *, text_limit: int | None = None) -> DocumentContent:
    """Copy the roots of ``doc``; with no record type, only ``record`` and ``clocks`` are read.

    A text root longer than ``text_limit`` characters is not copied (measuring a text costs nothing, copying it
    costs its whole length): it is left out of ``texts``.
    """
    lists = {root: plain(doc.get(root, type=Array)) or [] for root in (record_type.list_roots if record_type else ())}
    roots = {root: doc.get(root, type=Text) for root in (record_type.text_roots if record_type else ())}
    texts = {root: str(text) for root, text in roots.items() if text_limit is None or len(text) <= text_limit}
    return DocumentContent(
        record=plain(doc.get(RECORD_ROOT, type=Map)) or {},
        clocks=plain(doc.get(CLOCKS_ROOT, type=Map)) or {},
        lists=lists,
        texts=texts,
    )


def project_document(name: str, doc: Doc) -> ProjectionFields:
    """The projection of document ``name`` held in ``doc``."""
    try:
        record_type: RecordType | None = lookup_record_type(parse_document_name(name).kind)
    except DomainError:
        record_type = None
    content = read_document(doc, record_type)
    return project(name, content.record, content.lists, content.texts)


def _json(value: Any) -> Any:
    # Structs, enums, decimals and datetimes become the JSON values a Y document can hold.
    return msgspec.to_builtins(value)


def _set(record: Map, field: str, value: Any) -> None:
    if value is None:
        if field in record:
            del record[field]
    else:
        record[field] = value


def write_field(
    doc: Doc, field: str, value: Any, *, clock: Hlc, user: str, roles: Iterable[str], keep_path: bool = False
) -> FieldStamp:
    """Set scalar ``field`` and its stamp in one transaction; ``None`` removes the field.

    The write's time is made greater than every stamp of the field this replica has seen, so an overwrite
    always wins over what it overwrote, and ``prev`` records the newest of those stamps. With ``keep_path`` (a
    status), a write that follows this device's own latest write keeps the values it moves through, so the hub
    judges each step of a chain made offline.
    """
    value = _json(value)
    with doc.transaction():
        record = doc.get(RECORD_ROOT, type=Map)
        clocks = doc.get(CLOCKS_ROOT, type=Map)
        seen = parse_clocks(plain(clocks) or {}).latest(field)
        at = clock.now() if seen is None else clock.observe(seen.hlc)
        path: tuple[Any, ...] = ()
        if keep_path and seen is not None and seen.device == clock.node and seen.value != value:
            path = (*seen.path, seen.value)
        stamp = make_stamp(field, value, hlc=at, user=user, roles=roles, prev=None if seen is None else seen.hlc,
                           path=path)
        _set(record, field, value)
        clocks[stamp.key] = stamp.to_entry()
    return stamp


def correct_field(doc: Doc, resolution: FieldResolution) -> bool:
    """Write the policy's value when the merged record holds another; returns whether it wrote."""
    if not resolution.needs_correction:
        return False
    with doc.transaction():
        _set(doc.get(RECORD_ROOT, type=Map), resolution.field, _json(resolution.value))
    return True


def append_entry(doc: Doc, root: str, entry: Any, *, clock: Hlc, user: str) -> dict[str, Any]:
    """Append ``entry`` (a dict or Struct) to list ``root``, stamped with its time, author and device.

    For a new version of an item (same ``id``), the time is made greater than the version it replaces.
    """
    data = _json(entry)
    if not isinstance(data, Mapping):
        raise DomainError(f"a list entry must be an object, got {type(entry).__name__}")
    data = {key: value for key, value in data.items() if value is not None}
    with doc.transaction():
        array = doc.get(root, type=Array)
        held = previous_version(plain(array) or [], data["id"]) if isinstance(data.get("id"), str) else None
        held_time = _entry_time(held)
        at = clock.now() if held_time is None else clock.observe(held_time)
        data.update(hlc=at.encode(), user=user, device=clock.node)
        array.append(data)
    return data


def _entry_time(entry: Mapping[str, Any] | None) -> HlcTimestamp | None:
    try:
        return HlcTimestamp.decode(entry["hlc"]) if entry is not None and "hlc" in entry else None
    except DomainError:
        return None


def restore_text(text: Text, before: str, delta: Sequence[Mapping[str, Any]] | None = None) -> None:
    """Put text root ``text`` back to ``before``.

    ``delta`` is the edit that turned ``before`` into the current text (``conflict.change.TextEdit``). It is
    undone op by op: the characters it inserted are deleted (those very items, so what others typed around them
    concurrently keeps its place), what it deleted is inserted again, formatting it applied is removed. Without a
    delta, or when it does not match the text, the span between the common start and end is replaced (the
    characters come back; formatting is not compared: record texts are plain).
    """
    undo = _inverse(delta, before.encode(), len(text)) if delta is not None else None
    for op in undo or ():
        match op:
            case ("delete", at, size):
                del text[at:at + size]
            case ("insert", at, chunk):
                text.insert(at, chunk)
            case ("unformat", at, size, keys):
                text.format(at, at + size, dict.fromkeys(keys))
    current = str(text)
    if current != before:
        _replace_span(text, current, before)


def _inverse(delta: Sequence[Mapping[str, Any]], before: bytes, length: int) -> list[tuple[Any, ...]] | None:
    """The ops that undo ``delta`` on a text of ``length`` units (UTF-8 bytes, pycrdt's offsets), in order;
    ``None`` when the delta does not fit ``before`` and the text (then the caller replaces the span)."""
    ops: list[tuple[Any, ...]] = []
    at = read = seen = 0  # in the text as it is rebuilt, in ``before``, in the current text
    try:
        for op in delta:
            if "insert" in op:
                inserted = op["insert"]
                size = len(inserted.encode()) if isinstance(inserted, str) else 1  # an embed takes one
                ops.append(("delete", at, size))
                seen += size
            elif "delete" in op:
                size = int(op["delete"])
                ops.append(("insert", at, before[read:read + size].decode()))
                at, read = at + size, read + size
            elif "retain" in op:
                size = int(op["retain"])
                if op.get("attributes"):
                    ops.append(("unformat", at, size, tuple(op["attributes"])))
                at, read, seen = at + size, read + size, seen + size
            else:
                return None
    except (TypeError, ValueError):  # a chunk of ``before`` that is not whole characters: other offsets
        return None
    # what follows the last op is untouched: as long in both texts
    return ops if read <= len(before) and length - seen == len(before) - read else None


def _replace_span(text: Text, current: str, before: str) -> None:
    start = len(os.path.commonprefix([current, before]))
    end = len(os.path.commonprefix([current[start:][::-1], before[start:][::-1]]))
    at = len(current[:start].encode())
    del text[at:at + len(current[start:len(current) - end].encode())]
    text.insert(at, before[start:len(before) - end])
