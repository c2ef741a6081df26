"""What the hub decides about one client update: its own writes, the conflicts found, the violations.

``conflict.rules`` makes these decisions, ``sync.referee.corrections`` carries out the writes, ``sync.referee.conflicts`` turns
conflicts and violations into rows of the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from conflict import FieldConflict, FieldResolution, ViolationCode

__all__ = ["NOTHING", "Author", "FieldWrite", "ListAppend", "ListRemove", "Outcome", "StampRestore", "StatusChange",
           "TextRestore", "Violation"]


class Author(Protocol):
    """Who sent an update, as the hub verified it (the hub's ``Principal`` is one)."""

    @property
    def user(self) -> str: ...

    @property
    def device(self) -> str: ...

    @property
    def roles(self) -> frozenset[str]: ...


@dataclass(frozen=True, slots=True)
class Violation:
    """A write the hub did not accept, reported to its author and recorded with both values."""

    code: ViolationCode
    field: str
    message: str
    #: What the author wrote: ``value`` and, when known, ``device``, ``user``, ``hlc``.
    rejected: dict[str, Any]
    #: A stable identity of the finding (the ``key`` of its row in the conflicts table).
    key: str
    #: The value the record holds after the hub's correction.
    kept: Any = None


@dataclass(frozen=True, slots=True)
class FieldWrite:
    """Put ``value`` into a scalar field (``None`` removes it).

    With a ``resolution``, the value is the policy's winner, already stamped, and is written as is
    (``conflict.correct_field``). Without one, the hub decides the value itself (a refused status goes back)
    and writes it under its own stamp, newer than every stamp of the field.
    """

    field: str
    value: Any
    resolution: FieldResolution | None = None


@dataclass(frozen=True, slots=True)
class StampRestore:
    """Put back a ``clocks`` entry the author had no right to write (``entry`` ``None``: remove the key)."""

    key: str
    entry: Any


@dataclass(frozen=True, slots=True)
class ListAppend:
    """Append to a list root: an entry that was removed (as it was), or a corrected version (``stamped``)."""

    root: str
    entry: dict[str, Any]
    stamped: bool = False


@dataclass(frozen=True, slots=True)
class ListRemove:
    """Remove an entry the author had no right to add to a list root (the first entry equal to ``entry``)."""

    root: str
    entry: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TextRestore:
    """Put a text root back to ``text`` by undoing ``delta``, the edit that made its current content (when known)."""

    root: str
    text: str
    delta: tuple[dict[str, Any], ...] | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """An accepted status change, for the derived fields (history entry, ``status_updated_at``)."""

    old: str | None
    new: str
    by: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """Everything the hub does about one update; ``NOTHING`` when it breaks no rule and finds no conflict."""

    restores: tuple[StampRestore, ...] = ()
    writes: tuple[FieldWrite, ...] = ()
    appends: tuple[ListAppend, ...] = ()
    removals: tuple[ListRemove, ...] = ()
    texts: tuple[TextRestore, ...] = ()
    conflicts: tuple[FieldConflict, ...] = ()
    violations: tuple[Violation, ...] = ()
    status_change: StatusChange | None = None

    @property
    def writes_anything(self) -> bool:
        return bool(self.restores or self.writes or self.appends or self.removals or self.texts or self.status_change)


NOTHING = Outcome()
