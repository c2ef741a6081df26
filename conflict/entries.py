"""List roots: append-only logs of entries, where an item's newest version is its current state.

An entry with an ``id`` is one version of an item (a task, a payment); an item changes by appending a new
version with the same ``id`` and a greater ``hlc``. Entries without an ``id`` (most notes, history) are
items of their own. Array order is the same on every replica once they hold the same updates, so folding a
list is deterministic too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec

from conflict.errors import HlcError
from conflict.hlc import HlcTimestamp


def _version_time(entry: Mapping[str, Any]) -> HlcTimestamp | None:
    try:
        return HlcTimestamp.decode(entry["hlc"]) if "hlc" in entry else None
    except HlcError:
        return None


def _newer(candidate: Mapping[str, Any], held: Mapping[str, Any]) -> bool:
    # A version without a readable time loses to one with a time; between two of a kind, the later in the array wins.
    new, old = _version_time(candidate), _version_time(held)
    if new is None or old is None:
        return old is None
    return new >= old


def current_entries(entries: Iterable[Any]) -> list[Any]:
    """The current state of a list: the newest version of each item, at the position of its first version."""
    result: list[Any] = []
    slot_of: dict[str, int] = {}
    for entry in entries:
        item_id = entry.get("id") if isinstance(entry, Mapping) else None
        if not isinstance(item_id, str):
            result.append(entry)
        elif item_id not in slot_of:
            slot_of[item_id] = len(result)
            result.append(entry)
        elif _newer(entry, result[slot_of[item_id]]):
            result[slot_of[item_id]] = entry
    return result


def previous_version(entries: Iterable[Any], item_id: str) -> Mapping[str, Any] | None:
    """The current version of item ``item_id`` in ``entries``, if the item exists."""
    for entry in current_entries(entries):
        if isinstance(entry, Mapping) and entry.get("id") == item_id:
            return entry
    return None


_encoder = msgspec.json.Encoder(order="sorted")


def _fingerprint(entry: Any) -> bytes:
    # pycrdt reads every JSON number back as a float; 3 and 3.0 must be the same entry.
    def normalize(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | Mapping | list | tuple):
            return value
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, Mapping):
            return {str(k): normalize(v) for k, v in value.items()}
        return [normalize(v) for v in value]

    try:
        return _encoder.encode(normalize(entry))
    except (TypeError, msgspec.EncodeError):
        return repr(entry).encode()


def removed_entries(before: Sequence[Any], after: Sequence[Any]) -> list[Any]:
    """Entries of ``before`` that ``after`` no longer holds (as many times as they are missing).

    An append-only list must not lose any: the hub appends them again and records the violation.
    """
    remaining = Counter(_fingerprint(entry) for entry in after)
    missing: list[Any] = []
    for entry in before:
        key = _fingerprint(entry)
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            missing.append(entry)
    return missing
