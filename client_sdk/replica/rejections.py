"""Rejected writes: outbox entries the hub refused because the token could not reach the record (any more).

An entry lands here when the hub refused its document (``forbidden``) or took it away (``access_revoked``)
and answered the entry itself with ``write_rejected``: the hub did not apply it and keeps it in its review
queue. The device keeps it too, with the refusal's code, reason and time, so the app can show what the user
typed and where it went; it is never sent again, and it leaves only when the app dismisses it. The local
document keeps the edit as well (see ``LocalReplica.reject``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

import aiosqlite

from client_sdk.events import OutboxEntry, RejectedEntry

SCHEMA = """
CREATE TABLE IF NOT EXISTS rejected (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    "update" BLOB NOT NULL,
    created_at REAL NOT NULL,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    rejected_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS rejected_by_name ON rejected (name, id);
"""

_COLUMNS = 'id, name, "update", created_at, code, reason, rejected_at'


def _entry(row: aiosqlite.Row | tuple) -> RejectedEntry:
    return RejectedEntry(id=row[0], document=row[1], update=row[2], created_at=row[3], code=row[4], reason=row[5],
                         rejected_at=row[6])


class Rejections:
    """The ``rejected`` table and its counts per document. The replica serialises every call."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._counts: Counter[str] = Counter()

    async def load(self) -> None:
        async with self._db.execute("SELECT name, count(*) FROM rejected GROUP BY name") as cursor:
            self._counts = Counter({name: count async for name, count in cursor})

    async def add(self, entries: Iterable[OutboxEntry], code: str, reason: str,
                  now: float) -> tuple[list[RejectedEntry], Callable[[], None]]:
        """Keep ``entries`` as rejected (inside the caller's transaction); returns them and the after-commit step."""
        kept = [RejectedEntry(id=e.id, document=e.document, update=e.update, created_at=e.created_at, code=code,
                              reason=reason, rejected_at=now) for e in entries]
        await self._db.executemany(
            f"INSERT OR IGNORE INTO rejected ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(e.id, e.document, e.update, e.created_at, e.code, e.reason, e.rejected_at) for e in kept],
        )
        return kept, lambda: self._counts.update(e.document for e in kept)

    async def entries(self, name: str | None = None) -> list[RejectedEntry]:
        """Every rejected entry (of ``name``), oldest edit first."""
        sql = f"SELECT {_COLUMNS} FROM rejected" + (" WHERE name = ?" if name else "") + " ORDER BY id"
        async with self._db.execute(sql, (name,) if name else ()) as cursor:
            return [_entry(row) async for row in cursor]

    async def remove(self, ids: Iterable[int]) -> tuple[list[RejectedEntry], Callable[[], None]]:
        """Delete entries the app dismissed (inside the caller's transaction); returns them and the after-commit step."""
        wanted = sorted(set(ids))
        if not wanted:
            return [], lambda: None
        marks = ",".join("?" * len(wanted))
        async with self._db.execute(f"SELECT {_COLUMNS} FROM rejected WHERE id IN ({marks}) ORDER BY id",
                                    wanted) as cursor:
            removed = [_entry(row) async for row in cursor]
        await self._db.execute(f"DELETE FROM rejected WHERE id IN ({marks})", wanted)

        def removed_committed() -> None:
            self._counts.subtract(e.document for e in removed)
            self._counts = +self._counts  # drop the documents that have none left

        return removed, removed_committed

    def count(self, name: str | None = None) -> int:
        """Rejected entries kept (of ``name``); from memory."""
        return self._counts.get(name, 0) if name is not None else sum(self._counts.values())
