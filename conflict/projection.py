"""Projections: the typed, queryable view of one document, validated against its record type's schema.

The hub's projection table and the SDK's local projections both come from ``project``. It never raises on
document content: whatever does not validate is left out of the typed body and reported as a problem (with
the value, so nothing is lost), and fields the schema does not know are kept in the body untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from conflict.entries import current_entries
from conflict.errors import DomainError
from conflict.names import parse_document_name
from conflict.records.registry import RecordType, lookup_record_type


class ValidationProblem(msgspec.Struct, frozen=True):
    """Content that did not validate: where (``status``, ``tasks[2]``; empty for the whole document), why, what."""

    path: str
    message: str
    value: Any = None


class ProjectionFields(msgspec.Struct, frozen=True, kw_only=True):
    """What the projection tables index (type, status, assignee) and the JSON ``body`` they store."""

    name: str
    type: str | None
    id: str | None
    part: str | None = None
    status: str | None = None
    assignee: str | None = None
    body: dict[str, Any] = {}
    problems: tuple[ValidationProblem, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.problems


# Only content errors: a TypeError from msgspec means a broken schema, which must not pass for bad data.
_CONTENT_ERRORS = msgspec.ValidationError


def _gather(
    kind: RecordType | None,
    record: Any,
    lists: Mapping[str, Any] | None,
    texts: Mapping[str, Any] | None,
    problems: list[ValidationProblem],
) -> dict[str, Any]:
    """One flat dict of the document's content; list roots folded to their current entries."""
    roots = set() if kind is None else {*kind.list_roots, *kind.text_roots}
    raw: dict[str, Any] = {}
    if isinstance(record, Mapping):
        for key, value in record.items():
            if key in roots:
                problems.append(ValidationProblem(str(key), "belongs in its own root, not in the record map", value))
            else:
                raw[str(key)] = value
    elif record is not None:
        problems.append(ValidationProblem("", "the record is not a map", record))
    for key, entries in (lists or {}).items():
        if isinstance(entries, list | tuple):
            raw[str(key)] = current_entries(entries)
        else:
            problems.append(ValidationProblem(str(key), "a list root is not a list", entries))
    for key, text in (texts or {}).items():
        raw[str(key)] = text
    return raw


def _validate_entries(kind: RecordType, root: str, entries: Any, problems: list[ValidationProblem]) -> Any:
    entry_type = kind.entry_type(root)
    if entry_type is None or not isinstance(entries, list):
        return entries
    kept = []
    for index, entry in enumerate(entries):
        try:
            msgspec.convert(entry, entry_type, strict=False)
        except _CONTENT_ERRORS as exc:
            problems.append(ValidationProblem(f"{root}[{index}]", str(exc), entry))
        else:
            kept.append(entry)
    return kept


def _validate(kind: RecordType, known: dict[str, Any], problems: list[ValidationProblem]) -> msgspec.Struct:
    try:
        return msgspec.convert(known, kind.schema, strict=False)
    except _CONTENT_ERRORS:
        pass
    # Every field has a default, so each one can be validated on its own: keep the good ones.
    good: dict[str, Any] = {}
    for field, value in known.items():
        if field in kind.list_roots:
            value = _validate_entries(kind, field, value, problems)
        try:
            msgspec.convert({field: value}, kind.schema, strict=False)
        except _CONTENT_ERRORS as exc:
            problems.append(ValidationProblem(field, str(exc), value))
        else:
            good[field] = value
    try:
        return msgspec.convert(good, kind.schema, strict=False)
    except _CONTENT_ERRORS as exc:  # only a cross-field rule could fail here; none exists today
        problems.append(ValidationProblem("", str(exc), good))
        return kind.schema()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def project(
    name: str,
    record: Mapping[str, Any] | None,
    lists: Mapping[str, Any] | None = None,
    texts: Mapping[str, Any] | None = None,
) -> ProjectionFields:
    """Project document ``name`` from its ``record`` map, list roots and text roots (as ``to_py()`` gives them)."""
    problems: list[ValidationProblem] = []
    try:
        parsed = parse_document_name(name)
    except DomainError as exc:
        raw = _gather(None, record, lists, texts, problems)
        problems.insert(0, ValidationProblem("", str(exc)))
        return ProjectionFields(name=str(name), type=None, id=None, body=raw, problems=tuple(problems))
    try:
        kind: RecordType | None = lookup_record_type(parsed.kind)
    except DomainError as exc:
        kind = None
        problems.append(ValidationProblem("", str(exc)))
    raw = _gather(kind, record, lists, texts, problems)
    base = {"name": name, "type": parsed.record_type, "id": parsed.record_id, "part": parsed.part}
    if kind is None:
        return ProjectionFields(**base, body=raw, problems=tuple(problems))

    fields = set(kind.fields)
    known = {key: value for key, value in raw.items() if key in fields}
    unknown = {key: value for key, value in raw.items() if key not in fields}
    typed = msgspec.to_builtins(_validate(kind, known, problems))
    body = {**unknown, **typed}
    status = _text(body.get(kind.status_field)) if kind.status_field else None
    assignee = _text(body.get(kind.assignee_field)) if kind.assignee_field else None
    return ProjectionFields(**base, status=status, assignee=assignee, body=body, problems=tuple(problems))
