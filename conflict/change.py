"""What one update changed in a record document: the input of the hub's rules (``conflict.rules``).

The hub's record watch (``sync.documents.watch``) builds a ``Change`` by observing the document while it
merges one update; the rules judge it. Pure data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MISSING", "Change", "TextEdit"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


#: A key that was (or is) absent from its map.
MISSING: Any = _Missing()


@dataclass(frozen=True, slots=True)
class TextEdit:
    """What one update did to a text root."""

    #: The text before the update and after it; ``None`` when the hub's watch was not asked to keep this text (its
    #: author may write it, so the edit will not be undone).
    before: str | None
    after: str | None
    #: The update's edit as the document reported it (Yjs delta ops: ``retain``, ``insert``, ``delete``, counted
    #: in the document's own offsets); ``None`` when it was not reported as one delta.
    delta: tuple[dict[str, Any], ...] | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """The effect of one update on a record document."""

    #: Keys of the ``record`` map the update changed, with their values before it (``MISSING`` if absent).
    record_before: Mapping[str, Any] = field(default_factory=dict)
    #: The current ``record`` values of every field the update touched (its map key or one of its stamps).
    record_now: Mapping[str, Any] = field(default_factory=dict)
    #: The whole ``clocks`` map before and after the update (empty when the update touched no field).
    clocks_before: Mapping[str, Any] = field(default_factory=dict)
    clocks_after: Mapping[str, Any] = field(default_factory=dict)
    #: List roots the update changed: (entries before, entries after).
    lists: Mapping[str, tuple[list[Any], list[Any]]] = field(default_factory=dict)
    #: Text roots the update changed.
    texts: Mapping[str, TextEdit] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.record_now or self.lists or self.texts)

    def before(self, name: str) -> Any:
        """The value field ``name`` had before the update (``MISSING`` when absent)."""
        return self.record_before.get(name, self.record_now.get(name, MISSING))
