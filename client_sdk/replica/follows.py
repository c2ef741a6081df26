"""Documents followed by name (``LocalReplica.follow`` and every record edited here), kept across restarts.

Scope members are followed through their subscriptions (``client_sdk.replica.scopes``); a document is synced while
either holds it. As with the other tables, the in-memory set changes only once the write has committed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import aiosqlite

SCHEMA = "CREATE TABLE IF NOT EXISTS followed (name TEXT PRIMARY KEY, since REAL NOT NULL);"


class Follows:
    """The ``followed`` table and its in-memory copy. The replica serialises every call and owns the transactions."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._names: set[str] = set()

    async def load(self) -> None:
        self._names = {row[0] for row in await self._db.execute_fetchall("SELECT name FROM followed")}

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def names(self) -> set[str]:
        return set(self._names)

    async def add(self, names: Collection[str], now: float) -> Callable[[], None]:
        """Follow ``names`` (inside the caller's transaction); returns the after-commit step."""
        await self._db.executemany("INSERT OR IGNORE INTO followed (name, since) VALUES (?, ?)",
                                   [(name, now) for name in names])
        return lambda: self._names.update(names)

    async def remove(self, names: Collection[str]) -> Callable[[], None]:
        """Stop following ``names`` (inside the caller's transaction); returns the after-commit step."""
        await self._db.executemany("DELETE FROM followed WHERE name = ?", [(name,) for name in names])
        return lambda: self._names.difference_update(names)
