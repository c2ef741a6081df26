"""Opaque list cursors: where the last page ended, bound to the sort and filters it was made for.

A cursor is base64url JSON ``{"o": sort, "f": fingerprint, "k": key, "n": name}``; datetimes travel as
``{"t": iso}``. It is not signed: it only says where to continue, and the query it feeds is the caller's
own (same tenant, same filters), so a forged one can at worst skip to another position.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime
from typing import Any

from server.api.errors import BadParameter

__all__ = ["decode_cursor", "encode_cursor", "fingerprint"]

_MAX_CHARS = 2048
#: The sorts whose positions are instants; every other sort's are strings.
_TIME_SORTS = ("updated_at", "due_at")


def fingerprint(filters: dict[str, Any]) -> str:
    """A short digest of the filters a listing was made with."""
    text = json.dumps(filters, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def encode_cursor(sort: str, filters: str, key: Any, name: str) -> str:
    """The cursor continuing after (``key``, ``name``) of a listing sorted by ``sort`` with ``filters``."""
    value = {"t": key.isoformat()} if isinstance(key, datetime) else key
    raw = json.dumps({"o": sort, "f": filters, "k": value, "n": name}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, filters: str) -> tuple[Any, str]:
    """(key, name) of ``cursor``; ``BadParameter("cursor")`` when it is malformed or made for another listing."""
    if len(cursor) > _MAX_CHARS:
        raise BadParameter("cursor", "too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError
        name, key = data["n"], data["k"]
        if isinstance(key, dict):
            key = datetime.fromisoformat(key["t"])
            if key.tzinfo is None:
                raise ValueError
        if not isinstance(name, str) or not isinstance(key, str | datetime):
            raise ValueError
        if isinstance(key, datetime) != (sort.lstrip("-") in _TIME_SORTS):
            raise ValueError  # a position of another kind than the sort's values
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise BadParameter("cursor", "not a cursor this API gave") from None
    if data.get("o") != sort or data.get("f") != filters:
        raise BadParameter("cursor", "made for another sort or other filters; start again without it")
    return key, name
