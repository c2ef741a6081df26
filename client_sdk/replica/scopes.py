"""Sync scopes on the device: the subscriptions it follows and the members the hub last gave for each.

A subscription is one scope with its params (``sync/scopes/scopes.toml`` on the hub defines the scopes),
named by ``subscription_id`` so that following the same scope with the same params twice is one
subscription. Its members are document names; a document is followed while it is a member of some
subscription or followed by name. The tables live in the replica's file and are written inside the
replica's transactions; the in-memory copy here changes only once such a transaction has committed (each
write returns what to do then, as the outbox does).

A document that leaves every scope while it still has unacknowledged edits is *leaving*: it is kept, and
its edits are still sent, until its outbox is empty; then the replica deletes it.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import aiosqlite
import msgspec

from conflict import DomainError, parse_document_name

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS scopes (
    id TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    params TEXT NOT NULL,
    keep_removed INTEGER NOT NULL DEFAULT 0,
    version INTEGER
);
CREATE TABLE IF NOT EXISTS scope_members (
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (id, name)
);
CREATE INDEX IF NOT EXISTS scope_members_by_name ON scope_members (name);
CREATE TABLE IF NOT EXISTS scope_leaving (name TEXT PRIMARY KEY);
"""


#: The longest subscription id the hub takes (``Subscribe.id``).
MAX_ID_LENGTH = 200


def subscription_id(scope: str, params: Mapping[str, str] | None = None) -> str:
    """The canonical name of ``scope`` with ``params``: ``my_work_orders``, ``policy_with_claims?policy=POL-9``.

    ``ValueError`` for an empty scope name or an id longer than the hub takes; ``TypeError`` for a value that
    is not a string.
    """
    if not isinstance(scope, str) or not scope:
        raise ValueError("a scope name is a non-empty string")
    params = dict(params or {})
    for key, value in params.items():
        if not isinstance(value, str):
            raise TypeError(f"scope parameter {key}={value!r} must be a string")
    id = scope + "?" + urlencode(sorted(params.items())) if params else scope
    if len(id) > MAX_ID_LENGTH:
        raise ValueError(f"scope {scope!r} with these params is over {MAX_ID_LENGTH} characters: {id[:60]}...")
    return id


class Subscription(msgspec.Struct, frozen=True, kw_only=True):
    """One followed scope with its params, as the replica holds it."""

    id: str
    """``subscription_id(scope, params)``: the ``Subscribe.id`` the hub echoes."""
    scope: str
    params: dict[str, str]
    keep_removed: bool = False
    """Keep the local copy of a record that leaves the scope (it is no longer synced)."""
    version: int | None = None
    """The membership version the hub last gave; ``None`` until it answered once."""


class ScopeChange(msgspec.Struct, frozen=True, kw_only=True):
    """What one committed change of a subscription did to the device's documents."""

    subscription: str
    added: tuple[str, ...] = ()
    """Names that became members of the subscription."""
    removed: tuple[str, ...] = ()
    """Names that stopped being members of it."""
    followed: tuple[str, ...] = ()
    """Documents the device follows from now on and did not before: to open at once."""
    unfollowed: tuple[str, ...] = ()
    """Documents the device no longer follows (in no other scope, not followed by name)."""
    deleted: tuple[str, ...] = ()
    """Local copies deleted with it."""
    held: tuple[str, ...] = ()
    """No longer followed, but kept until their unacknowledged edits are stored."""


def document_names(names: Iterable[str]) -> list[str]:
    """``names`` without duplicates and without what cannot be a record's document (logged)."""
    valid: list[str] = []
    for name in dict.fromkeys(names):
        try:
            parse_document_name(name)
        except DomainError:
            log.warning("ignoring scope member %.120r: not a document name", name)
            continue
        valid.append(name)
    return valid


class ScopeTable:
    """The scope tables plus their in-memory copy. The replica serialises every call and owns the transactions."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._subscriptions: dict[str, Subscription] = {}
        self._members: dict[str, set[str]] = {}
        self._holders: Counter[str] = Counter()
        self.leaving: set[str] = set()
        """Documents out of every scope, kept until their outbox is empty."""

    async def load(self) -> None:
        rows = await self._db.execute_fetchall("SELECT id, scope, params, keep_removed, version FROM scopes")
        self._subscriptions = {
            id: Subscription(id=id, scope=scope, params=json.loads(params), keep_removed=bool(keep), version=version)
            for id, scope, params, keep, version in rows
        }
        self._members = {id: set() for id in self._subscriptions}
        for id, name in await self._db.execute_fetchall("SELECT id, name FROM scope_members"):
            if id in self._members:
                self._members[id].add(name)
        self._holders = Counter(name for names in self._members.values() for name in names)
        self.leaving = {row[0] for row in await self._db.execute_fetchall("SELECT name FROM scope_leaving")}

    # -- reading (memory) ----------------------------------------------------------------------------

    def get(self, id: str) -> Subscription | None:
        return self._subscriptions.get(id)

    def subscriptions(self) -> list[Subscription]:
        return sorted(self._subscriptions.values(), key=lambda sub: sub.id)

    def members(self, id: str) -> frozenset[str]:
        return frozenset(self._members.get(id, ()))

    def names(self) -> set[str]:
        """Every document that is a member of some subscription."""
        return set(self._holders)

    def holds(self, name: str) -> bool:
        return name in self._holders

    def only_in(self, id: str, names: Iterable[str]) -> list[str]:
        """Those of ``names`` that no subscription but ``id`` holds."""
        mine = self._members.get(id, set())
        return [name for name in names if self._holders[name] == (1 if name in mine else 0)]

    def ids_for(self, scope: str, params: Mapping[str, str] | None = None) -> list[str]:
        """Followed subscriptions a query's ``scope`` names: its id, or every one of that scope without params."""
        if params is not None:
            id = subscription_id(scope, params)
            return [id] if id in self._subscriptions else []
        return sorted(id for id, sub in self._subscriptions.items() if id == scope or sub.scope == scope)

    # -- changes (inside the replica's transaction; each returns its outcome and the after-commit step) ---

    async def follow(self, sub: Subscription) -> Callable[[], None]:
        """Add ``sub``, or update the ``keep_removed`` of the subscription with its id."""
        await self._db.execute(
            "INSERT INTO scopes (id, scope, params, keep_removed, version) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET keep_removed = excluded.keep_removed",
            (sub.id, sub.scope, json.dumps(sub.params, sort_keys=True), int(sub.keep_removed), sub.version),
        )

        def followed() -> None:
            old = self._subscriptions.get(sub.id)
            self._subscriptions[sub.id] = sub if old is None else msgspec.structs.replace(
                old, keep_removed=sub.keep_removed)
            self._members.setdefault(sub.id, set())

        return followed

    async def unfollow(self, id: str, departures: Departures, *,
                       forget: bool) -> tuple[ScopeChange, Callable[[], None]]:
        """Remove subscription ``id`` (it must exist) and its members; ``forget`` deletes what no follow holds."""
        members = sorted(self._members.get(id, ()))
        await self._db.execute("DELETE FROM scope_members WHERE id = ?", (id,))
        await self._db.execute("DELETE FROM scopes WHERE id = ?", (id,))
        change, departed = await self._depart(ScopeChange(subscription=id, removed=tuple(members)), departures,
                                              keep=not forget)

        def unfollowed() -> None:
            self._subscriptions.pop(id, None)
            self._holders.subtract(self._members.pop(id, set()))
            self._holders = +self._holders  # drop the names no subscription holds any more
            departed()

        return change, unfollowed

    async def update(self, id: str, version: int, departures: Departures, *, members: Iterable[str] | None,
                     added: Iterable[str], removed: Iterable[str]) -> tuple[ScopeChange, Callable[[], None]]:
        """Subscription ``id`` (it must exist) holds ``members`` at ``version``, or changed by ``added``/``removed``."""
        before = self._members.get(id, set())
        if members is None:
            after = (before - set(removed)) | set(document_names(added))
        else:
            after = set(document_names(members))
        entered, left = sorted(after - before), sorted(before - after)
        await self._db.execute("UPDATE scopes SET version = ? WHERE id = ?", (version, id))
        await self._db.executemany("DELETE FROM scope_members WHERE id = ? AND name = ?", [(id, n) for n in left])
        await self._db.executemany("INSERT OR IGNORE INTO scope_members (id, name) VALUES (?, ?)",
                                   [(id, n) for n in entered])
        new = tuple(name for name in entered if not self.holds(name) and not departures.followed(name))
        change, departed = await self._depart(
            ScopeChange(subscription=id, added=tuple(entered), removed=tuple(left), followed=new), departures,
            keep=self._subscriptions[id].keep_removed)

        def updated() -> None:
            self._subscriptions[id] = msgspec.structs.replace(self._subscriptions[id], version=version)
            members = self._members.setdefault(id, set())
            members.difference_update(left)
            members.update(entered)
            self._holders.subtract(left)
            self._holders.update(entered)
            self._holders = +self._holders
            departed()

        return change, updated

    async def sweep(self, departures: Departures) -> tuple[list[str], Callable[[], None]]:
        """Delete the leaving documents whose outbox is empty now; returns them."""
        back = [name for name in self.leaving if self.holds(name) or departures.followed(name)]
        done = [name for name in self.leaving if name not in back and not departures.pending(name)]
        await departures.forget(done)
        await self._db.executemany("DELETE FROM scope_leaving WHERE name = ?", [(n,) for n in [*back, *done]])

        def swept() -> None:
            self.leaving.difference_update([*back, *done])

        return done, swept

    async def _depart(self, change: ScopeChange, departures: Departures, *,
                      keep: bool) -> tuple[ScopeChange, Callable[[], None]]:
        """The removed members no other follow holds stop being followed: deleted, kept, or leaving."""
        gone = tuple(name for name in self.only_in(change.subscription, change.removed)
                     if not departures.followed(name))
        held = () if keep else tuple(name for name in gone if departures.pending(name))
        deleted = () if keep else tuple(name for name in gone if name not in held)
        await departures.forget(deleted)
        await self._db.executemany("INSERT OR IGNORE INTO scope_leaving (name) VALUES (?)", [(n,) for n in held])
        # a document deleted or kept for good is not leaving any more (it may have been, from an earlier scope)
        await self._db.executemany("DELETE FROM scope_leaving WHERE name = ?", [(n,) for n in gone if n not in held])

        def departed() -> None:
            self.leaving.difference_update(gone)
            self.leaving.update(held)

        return msgspec.structs.replace(change, unfollowed=gone, held=held, deleted=deleted), departed


@dataclass(frozen=True, slots=True)
class Departures:
    """What the scope table asks the replica about documents that leave a scope."""

    followed: Callable[[str], bool]
    """Followed by name (``LocalReplica.follow`` or a local edit)."""
    pending: Callable[[str], int]
    """Unacknowledged outbox entries of a document."""
    forget: Callable[[Collection[str]], Awaitable[None]]
    """Delete the local copies of documents inside the current transaction."""
