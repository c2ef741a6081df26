"""What projections can be selected by: the matches a scope is made of, as the store evaluates them.

A scope definition (``sync.scopes``) is a list of ``Match``es with ``{param}`` templates; bound to a token's
params it becomes a ``MatchSet``, which the store turns into a query and which re-checks each row it finds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Match", "MatchSet"]

_TEMPLATE = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class Match:
    """One way a record enters a scope; templates (``{param}``) are still unfilled in a definition."""

    type: str
    statuses: frozenset[str] | None = None
    assignee: str | None = None
    id: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    include_deleted: bool = False

    def accepts(self, name: str, type: str, status: str | None, assignee: str | None, record: Mapping[str, Any]) -> bool:
        if self.type != "*" and type != self.type:
            return False
        if self.statuses is not None and status not in self.statuses:
            return False
        if self.assignee is not None and assignee != self.assignee:
            return False
        if self.id is not None and name.partition(":")[2] != self.id:
            return False
        if any(record.get(field) != value for field, value in self.fields):
            return False
        return self.include_deleted or record.get(_DELETED) is not True

    def filled(self, values: Mapping[str, str]) -> Match:
        def fill(text: str | None) -> str | None:
            return None if text is None else _TEMPLATE.sub(lambda m: values[m[1]], text)

        return Match(self.type, self.statuses, fill(self.assignee), fill(self.id),
                     tuple((field, fill(value) or "") for field, value in self.fields), self.include_deleted)


class MatchSet(Protocol):
    """Records accepted by any of ``matches`` (a ``sync.scopes.ResolvedScope`` is one)."""

    @property
    def matches(self) -> tuple[Match, ...]: ...

    def accepts(self, name: str, type: str, status: str | None, assignee: str | None, record: Mapping[str, Any]) -> bool: ...
