"""Checks of the REST parameters Litestar cannot check from their types: each failure names its parameter."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from litestar import Request

from conflict import LIFECYCLES, RECORD_TYPES
from server.api.errors import BadParameter
from sync import LISTING_SORTS, RecordOrder

__all__ = [
    "MAIN_TYPES", "check_aware", "check_known", "check_text", "parse_fields", "parse_sort", "parse_status",
    "parse_type",
]

#: Record types with projections (companion documents such as ``…/internal`` have none).
MAIN_TYPES = tuple(name for name in RECORD_TYPES if "/" not in name)
_MAX_TEXT = 200
_MAX_FIELDS = 50


def check_known(request: Request[Any, Any, Any], allowed: Collection[str]) -> None:
    """Refuse query parameters the route does not take (a misspelt filter would otherwise filter nothing)."""
    for name in request.query_params:
        if name not in allowed:
            raise BadParameter(name, f"unknown parameter; this route takes {', '.join(sorted(allowed))}")
    for name in request.query_params:
        if len(request.query_params.getall(name)) > 1:
            raise BadParameter(name, "given more than once")


def check_text(name: str, value: str | None, *, max_chars: int = _MAX_TEXT) -> str | None:
    """A non-empty text of at most ``max_chars`` characters, or ``None``."""
    if value is None:
        return None
    if not value.strip():
        raise BadParameter(name, "must not be empty")
    if len(value) > max_chars:
        raise BadParameter(name, f"at most {max_chars} characters")
    return value


def check_aware(name: str, value: datetime | None) -> datetime | None:
    """An instant with its time zone (``2026-01-05T08:00:00Z``), or ``None``."""
    if value is not None and value.tzinfo is None:
        raise BadParameter(name, "needs a time zone, e.g. 2026-01-05T08:00:00Z")
    return value


def parse_type(value: str | None) -> str | None:
    if value is not None and value not in MAIN_TYPES:
        raise BadParameter("type", f"unknown record type; one of {', '.join(MAIN_TYPES)}")
    return value


def parse_status(value: str | None, record_type: str | None) -> str | None:
    if value is None:
        return None
    lifecycles = [LIFECYCLES[record_type]] if record_type in LIFECYCLES else list(LIFECYCLES.values())
    if not any(value in lifecycle.statuses for lifecycle in lifecycles):
        whose = f"of {record_type}" if record_type else "of any record type"
        raise BadParameter("status", f"not a status {whose}")
    return value


def parse_fields(value: str | None, record_type: str | None) -> tuple[str, ...] | None:
    """Record fields to return, comma-separated; each must be a field of the type (of any type without one)."""
    if value is None:
        return None
    names = [name.strip() for name in value.split(",")]
    if not all(names) or len(names) > _MAX_FIELDS:
        raise BadParameter("fields", f"a comma-separated list of 1 to {_MAX_FIELDS} field names")
    known = _fields_of([RECORD_TYPES[record_type]] if record_type else [RECORD_TYPES[n] for n in MAIN_TYPES])
    unknown = [name for name in names if name not in known]
    if unknown:
        raise BadParameter("fields", f"unknown field {unknown[0]!r}")
    return tuple(dict.fromkeys(names))


def _fields_of(kinds: Iterable[Any]) -> set[str]:
    return {name for kind in kinds for name in kind.scalar_fields}


def parse_sort(value: str) -> RecordOrder:
    """``column`` or ``-column`` (descending), the column one of ``LISTING_SORTS``."""
    column = value.removeprefix("-")
    if column not in LISTING_SORTS:
        allowed = ", ".join(f"{c}, -{c}" for c in LISTING_SORTS)
        raise BadParameter("sort", f"one of {allowed}")
    return RecordOrder(column, descending=value.startswith("-"))
