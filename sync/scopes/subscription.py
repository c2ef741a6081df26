"""One subscription of one connection to one scope: the members it holds and the messages that change them.

Pure bookkeeping over projection changes: no I/O, so every membership rule is testable without a hub.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sync.access import AccessRules, Principal, scope_for
from sync.errors import AuthError
from sync.protocol import Sender
from sync.protocol.control import ScopeMembers
from sync.scopes.definitions import ResolvedScope
from sync.store.matches import Match
from sync.store import ProjectionChange

__all__ = ["FULL_LIST_MIN_CHANGES", "ReadableScope", "Subscription", "readable", "resume_limit"]

#: A resume never gets the whole list for fewer changed records than this.
FULL_LIST_MIN_CHANGES = 200


def readable(rules: AccessRules, principal: Principal, name: str, type: str, record: Mapping[str, Any]) -> bool:
    """Whether ``principal`` may open the record ``name`` holding ``record``: a scope never offers anything else."""
    try:
        scope_for(principal, name)
    except AuthError:
        return False
    return rules.decide(principal, type, record).scope is not None


class ReadableScope:
    """A scope's matches, accepting only records its subscriber may read (what the store is asked for)."""

    __slots__ = ("scope", "rules", "principal")

    def __init__(self, scope: ResolvedScope, rules: AccessRules, principal: Principal) -> None:
        self.scope, self.rules, self.principal = scope, rules, principal

    @property
    def matches(self) -> tuple[Match, ...]:
        return self.scope.matches

    def accepts(self, name: str, type: str, status: str | None, assignee: str | None, record: Mapping[str, Any]) -> bool:
        return self.scope.accepts(name, type, status, assignee, record) and readable(
            self.rules, self.principal, name, type, record)


def resume_limit(member_count: int) -> int:
    """Changed records since a device's version above which it gets the whole list instead of a diff."""
    return max(FULL_LIST_MIN_CHANGES, member_count // 2)


class Subscription:
    """What one connection follows under one ``Subscribe.id``, and the members it was last told about."""

    __slots__ = ("id", "sink", "principal", "scope", "readable", "members", "version")

    def __init__(self, id: str, sink: Sender, principal: Principal, scope: ResolvedScope, members: Iterable[str],
                 version: int, rules: AccessRules) -> None:
        self.id = id
        self.sink = sink
        self.principal = principal
        self.scope = scope
        self.readable = ReadableScope(scope, rules, principal)
        self.members = set(members)
        self.version = version
        """Every projection change numbered up to this is reflected in ``members``."""

    @property
    def tenant(self) -> str:
        return self.principal.tenant

    def follows(self, change: ProjectionChange) -> bool:
        """Whether the record, as ``change`` shows it, is a member for this subscriber."""
        return self.readable.accepts(change.name, change.type, change.status, change.assignee, change.record)

    def message(self, *, members: Sequence[str] | None = None, added: Sequence[str] = (),
                removed: Sequence[str] = ()) -> ScopeMembers:
        return ScopeMembers(
            id=self.id, scope=self.scope.definition.name, params=dict(self.scope.params), version=self.version,
            members=None if members is None else list(members), added=list(added), removed=list(removed),
        )

    def full(self) -> ScopeMembers:
        """The whole member list at ``version``."""
        return self.message(members=sorted(self.members))

    def diff(self, changes: Iterable[ProjectionChange]) -> ScopeMembers:
        """What changed for a device whose members were right before ``changes`` (a resume).

        Changed members are ``added`` (a device already holding one loses nothing); the other changed records
        of the scope's types are ``removed`` (a device ignores names it does not hold).
        """
        types = self.scope.types
        added, removed = set(), set()
        for change in changes:
            if change.name in self.members:
                added.add(change.name)
            elif types is None or change.type in types:
                removed.add(change.name)
        return self.message(added=sorted(added), removed=sorted(removed))

    def apply(self, changes: Iterable[ProjectionChange], version: int) -> ScopeMembers | None:
        """Take in projection changes up to ``version``; the push for the device, or None when nothing moved."""
        added, removed = [], []
        for change in changes:
            if change.seq <= self.version:
                continue  # already reflected: the members were read after it was committed
            if self.follows(change):
                if change.name not in self.members:
                    self.members.add(change.name)
                    added.append(change.name)
            elif change.name in self.members:
                self.members.discard(change.name)
                removed.append(change.name)
        self.version = max(self.version, version)
        if not added and not removed:
            return None
        return self.message(added=sorted(added), removed=sorted(removed))
