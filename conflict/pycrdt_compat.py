"""Every use of pycrdt's private internals, in one place.

The hub reads documents faster than pycrdt's public API allows (one transaction per copy, observers on the
raw Yrs types: see ``conflict.copies`` and ``sync.documents.watch``). Those paths depend on names pycrdt does
not promise to keep, so they are reached only through this module, and ``tests/conflict/test_pycrdt_compat.py``
fails loudly, naming the installed pycrdt version, when any of them changes. ``pyproject.toml`` pins pycrdt to
the minor version these were tested with (``TESTED_MINOR``).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from pycrdt import Doc
from pycrdt._base import BaseType, process_event

__all__ = ["TESTED_MINOR", "BaseType", "installed_version", "is_integrated", "observe_raw", "raw_transaction",
           "text_delta", "wrap_event_value", "wrap_raw"]

#: The pycrdt minor version these internals were written against.
TESTED_MINOR = "0.14"


def installed_version() -> str:
    return version("pycrdt")


def is_integrated(shared: BaseType) -> bool:
    """True when ``shared`` lives in a document (else it is a prelim value not yet inserted)."""
    return shared._integrated is not None


def raw_transaction(txn: Any) -> Any:
    """The Yrs transaction under a pycrdt ``Transaction`` (what raw reads take)."""
    return txn._txn


def wrap_raw(owner: BaseType, raw: Any) -> Any:
    """A raw Yrs value read from ``owner``, wrapped as pycrdt would (a shared type or a subdocument)."""
    return owner._maybe_as_type_or_doc(raw)


def wrap_event_value(raw: Any, doc: Doc) -> Any:
    """A value from a raw Yrs event (an old value of a map key), wrapped as pycrdt's own events do."""
    return process_event(raw, doc)


def observe_raw(shared: BaseType, callback: Callable[[Any], None]) -> Any:
    """Observe the Yrs type under ``shared`` directly: no pycrdt event object is built per change.

    Returns the subscription; the observer stops when it is dropped.
    """
    return shared.integrated.observe(callback)


def text_delta(event: Any) -> tuple[dict[str, Any], ...]:
    """The delta of a raw Yrs text event (from ``observe_raw`` on a ``Text``), read while its callback runs.

    Its ``retain`` and ``delete`` counts, and the length an ``insert`` takes, are in the document's offsets (UTF-8
    bytes for a pycrdt document), the same offsets ``Text`` indexes by.
    """
    return tuple(dict(op) for op in event.delta)
