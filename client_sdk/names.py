"""Document names on the device: ``{type}:{id}`` (``work_order:WO-1042``), checked as the hub checks them.

Every call that takes a record's name checks it here first, so a typo fails at once with ``RecordError``
instead of reaching the hub and coming back as a refusal.
"""

from __future__ import annotations

from client_sdk.errors import RecordError
from conflict import DomainError, RecordType, parse_document_name, record_type_for


def record_name(record_type: str, record_id: str) -> str:
    """The document name of a record: ``work_order:WO-1042``."""
    name = f"{record_type}:{record_id}"
    try:
        parse_document_name(name)
    except DomainError as exc:
        raise RecordError(str(exc)) from None
    return name


def record_type(name: str) -> RecordType:
    """The record type of document ``name``; ``RecordError`` for a name that is not ``{type}:{id}`` of a known type."""
    try:
        return record_type_for(name)
    except DomainError as exc:
        raise RecordError(str(exc)) from None
