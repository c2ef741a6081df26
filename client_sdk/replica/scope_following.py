"""Following sync scopes: each change of a subscription committed in one transaction, with what it deletes.

The scope tables (``client_sdk.replica.scopes``) decide what a change does to the device's documents; this module
runs it under the replica's lock and in one of its transactions, deletes the local copies of documents that
left every follow (state and projection), and tells the listeners once the change has committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping

import aiosqlite

from client_sdk.replica import projections, storage
from client_sdk.replica.documents import DocumentStates
from client_sdk.events import Listeners
from client_sdk.replica.follows import Follows
from client_sdk.replica.scopes import Departures, ScopeChange, ScopeTable, Subscription, subscription_id

Change = Callable[[], Awaitable[tuple[ScopeChange, Callable[[], None]]]]
"""One write to the scope tables: its outcome and the step to run once it committed."""


class ScopeFollowing:
    """The replica's side of sync scopes; ``LocalReplica`` holds one and shares its lock with it."""

    def __init__(self, db: aiosqlite.Connection, lock: asyncio.Lock, *, table: ScopeTable, docs: DocumentStates,
                 follows: Follows, pending: Callable[[str], int]) -> None:
        self._db = db
        self._lock = lock
        self._table = table
        self._docs = docs
        self._departures = Departures(followed=follows.__contains__, pending=pending, forget=self._forget)
        self.on_scope: Listeners[ScopeChange] = Listeners()
        """Called once per committed change of a subscription: followed, unfollowed, members updated."""

    async def follow(self, scope: str, params: Mapping[str, str] | None, *, keep_removed: bool) -> str:
        sub = Subscription(id=subscription_id(scope, params), scope=scope, params=dict(params or {}),
                           keep_removed=keep_removed)
        async with self._lock:
            old = self._table.get(sub.id)
            if old is not None and old.keep_removed == keep_removed:
                return sub.id
            async with storage.transaction(self._db):
                followed = await self._table.follow(sub)
            followed()
        self.on_scope.emit(ScopeChange(subscription=sub.id))
        return sub.id

    async def unfollow(self, id: str, *, forget: bool) -> ScopeChange | None:
        return await self._change(id, lambda: self._table.unfollow(id, self._departures, forget=forget))

    async def apply_members(self, id: str, version: int, *, members: Iterable[str] | None, added: Iterable[str],
                            removed: Iterable[str]) -> ScopeChange | None:
        return await self._change(id, lambda: self._table.update(
            id, version, self._departures, members=members, added=added, removed=removed))

    async def sweep_leaving(self) -> list[str]:
        """Delete the documents that left every scope and whose outbox is empty now; returns them."""
        async with self._lock:
            if not self._table.leaving:
                return []
            async with storage.transaction(self._db):
                done, swept = await self._table.sweep(self._departures)
            self._committed(swept, ScopeChange(subscription="", deleted=tuple(done)))
            return done

    async def _change(self, id: str, change: Change) -> ScopeChange | None:
        async with self._lock:
            if self._table.get(id) is None:
                return None
            async with storage.transaction(self._db):
                result, step = await change()
            self._committed(step, result)
        self.on_scope.emit(result)
        return result

    def _committed(self, step: Callable[[], None], change: ScopeChange) -> None:
        step()
        for name in change.deleted:
            self._docs.drop(name)

    async def _forget(self, names: Iterable[str]) -> None:
        """Delete local copies (state and projection), inside the current transaction."""
        names = list(names)
        await self._docs.delete(names)
        await projections.delete(self._db, names)
