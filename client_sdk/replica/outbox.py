"""The outbox: local updates kept in SQLite until the hub acknowledges them, with edit coalescing.

Every local edit lands here in the same transaction as the document state (``LocalReplica.edit``). Edits of
one document made within ``window`` seconds of that document's open entry are merged into it with
``pycrdt.merge_updates``, so a burst of keystrokes becomes one entry and one frame. An entry is *sealed*
once its window has passed (or when asked to, with ``force``); only sealed entries are sent, and a sealed
entry never changes again, so what was sent is exactly what the acknowledgement removes. Only consecutive
updates of one document are merged, which keeps every document's updates in the order they were made.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import aiosqlite
from pycrdt import merge_updates

from client_sdk.events import OutboxEntry

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    "update" BLOB NOT NULL,
    base_state_vector BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_name ON outbox (name, id);
"""

_COLUMNS = 'id, name, "update", base_state_vector, created_at'


@dataclass(slots=True)
class _OpenEntry:
    id: int
    opened_at: float
    update: bytes


def _entry(row: aiosqlite.Row | tuple) -> OutboxEntry:
    return OutboxEntry(id=row[0], document=row[1], update=row[2], base_state_vector=row[3], created_at=row[4])


class Outbox:
    """The outbox table plus the in-memory coalescing windows. The replica serialises every call."""

    def __init__(self, db: aiosqlite.Connection, *, window: float, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self.window = window
        self._clock = clock
        self._wall_clock = wall_clock
        self._open: dict[str, _OpenEntry] = {}
        self._counts: Counter[str] = Counter()

    async def load(self) -> None:
        """Read the pending counts. Entries left by an earlier run are all sealed: their window is gone."""
        async with self._db.execute("SELECT name, count(*) FROM outbox GROUP BY name") as cursor:
            self._counts = Counter({name: count async for name, count in cursor})

    # -- writing (inside the replica's transaction) -------------------------------------------------

    async def add(self, name: str, update: bytes, base_state_vector: bytes) -> Callable[[], None]:
        """Write ``update`` as a new entry or merge it into the document's open entry.

        Runs inside the caller's transaction; returns what to do to the in-memory state once it committed.
        """
        now = self._clock()
        held = self._open.get(name)
        if held is not None and now - held.opened_at < self.window:
            merged = merge_updates(held.update, update)
            await self._db.execute('UPDATE outbox SET "update" = ? WHERE id = ?', (merged, held.id))

            def merged_committed() -> None:
                held.update = merged

            return merged_committed
        cursor = await self._db.execute(
            'INSERT INTO outbox (name, "update", base_state_vector, created_at) VALUES (?, ?, ?, ?)',
            (name, update, base_state_vector, self._wall_clock()),
        )
        entry_id = int(cursor.lastrowid or 0)  # an INSERT into a rowid table always yields its rowid

        def inserted_committed() -> None:
            self._open[name] = _OpenEntry(entry_id, now, update)
            self._counts[name] += 1

        return inserted_committed

    def forget_window(self, name: str) -> None:
        """After a failed transaction: the next edit of ``name`` starts a new entry."""
        self._open.pop(name, None)

    # -- sealing and reading ------------------------------------------------------------------------

    def seconds_to_seal(self, name: str) -> float | None:
        """How long until ``name``'s open entry is sealed; ``None`` when it has none.

        An entry whose window has passed is sealed here and reported once as ``0.0``: the sender must act
        now, since nothing else may wake it to send that entry.
        """
        held = self._open.get(name)
        if held is None:
            return None
        left = held.opened_at + self.window - self._clock()
        if left <= 0:
            del self._open[name]
            return 0.0
        return left

    async def sealed_entries(self, name: str, after: int = 0, *, force: bool = False) -> list[OutboxEntry]:
        """Sealed entries of ``name`` with an id above ``after``, oldest first; ``force`` seals the open one."""
        held = self._open.get(name)
        if held is not None and (force or self._clock() - held.opened_at >= self.window):
            del self._open[name]
            held = None
        async with self._db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE name = ? AND id > ? ORDER BY id", (name, after)
        ) as cursor:
            rows = [_entry(row) async for row in cursor]
        return [entry for entry in rows if held is None or entry.id != held.id]

    async def entries(self, name: str | None = None) -> list[OutboxEntry]:
        """Every entry (of ``name``), sealed or not, oldest first."""
        sql = f"SELECT {_COLUMNS} FROM outbox" + (" WHERE name = ?" if name else "") + " ORDER BY id"
        async with self._db.execute(sql, (name,) if name else ()) as cursor:
            return [_entry(row) async for row in cursor]

    async def first_base(self, name: str) -> bytes | None:
        """The state vector the document had before its oldest unacknowledged edit."""
        async with self._db.execute(
            "SELECT base_state_vector FROM outbox WHERE name = ? ORDER BY id LIMIT 1", (name,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else row[0]

    # -- acknowledging --------------------------------------------------------------------------------

    async def remove(self, ids: Iterable[int]) -> tuple[list[OutboxEntry], Callable[[], None]]:
        """Delete entries (inside the caller's transaction); returns them and the after-commit step."""
        wanted = sorted(set(ids))
        if not wanted:
            return [], lambda: None
        marks = ",".join("?" * len(wanted))
        async with self._db.execute(f"SELECT {_COLUMNS} FROM outbox WHERE id IN ({marks}) ORDER BY id", wanted) as cursor:
            removed = [_entry(row) async for row in cursor]
        await self._db.execute(f"DELETE FROM outbox WHERE id IN ({marks})", wanted)

        def removed_committed() -> None:
            for entry in removed:
                self._counts[entry.document] -= 1
                if self._counts[entry.document] <= 0:
                    del self._counts[entry.document]
                held = self._open.get(entry.document)
                if held is not None and held.id == entry.id:
                    del self._open[entry.document]

        return removed, removed_committed

    # -- counting -------------------------------------------------------------------------------------

    def count(self, name: str | None = None) -> int:
        """Unacknowledged entries (of ``name``)."""
        return self._counts.get(name, 0) if name is not None else sum(self._counts.values())

    def documents(self) -> list[str]:
        """Documents that have unacknowledged entries."""
        return sorted(self._counts)
