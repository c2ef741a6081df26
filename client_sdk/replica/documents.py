"""Document states: each record's CRDT state and state vector in SQLite, and the ``Doc`` objects in memory.

A document is loaded into a pycrdt ``Doc`` the first time it is needed and kept for the life of the replica;
state vectors and catch-up updates of documents not loaded come from their columns, so a device that follows
thousands of records loads only those it touches. The replica serialises every call and owns the transactions.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import aiosqlite
from pycrdt import Doc

from sync.protocol import EMPTY_STATE_VECTOR

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    name TEXT PRIMARY KEY,
    state BLOB NOT NULL,
    state_vector BLOB NOT NULL,
    updated_at REAL NOT NULL
);
"""

#: SQLite's default limit of host parameters is 999: state vectors are read in chunks below it.
_CHUNK = 500


class DocumentStates:
    """The ``documents`` table and the documents loaded from it."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._docs: dict[str, Doc] = {}

    @property
    def loaded(self) -> list[str]:
        """Documents held in memory."""
        return sorted(self._docs)

    async def load(self, name: str) -> Doc | None:
        """The live document ``name`` (loaded on first use); ``None`` when the replica has never held it."""
        doc = self._docs.get(name)
        if doc is None:
            async with self._db.execute("SELECT state FROM documents WHERE name = ?", (name,)) as cursor:
                row = await cursor.fetchone()
            if row is not None:
                doc = self._docs[name] = Doc()
                doc.apply_update(row[0])
        return doc

    def keep(self, name: str, doc: Doc) -> None:
        """``doc`` is document ``name`` as committed."""
        self._docs[name] = doc

    def drop(self, name: str) -> None:
        """Forget the in-memory copy (it may hold an uncommitted change): the next use reloads it from disk."""
        self._docs.pop(name, None)

    async def save(self, name: str, doc: Doc, now: float) -> None:
        """Write the state of ``doc`` (inside the caller's transaction)."""
        await self._db.execute(
            "INSERT OR REPLACE INTO documents (name, state, state_vector, updated_at) VALUES (?, ?, ?, ?)",
            (name, doc.get_update(), doc.get_state(), now),
        )

    async def delete(self, names: Collection[str]) -> None:
        """Delete documents (inside the caller's transaction); the memory follows once it committed."""
        await self._db.executemany("DELETE FROM documents WHERE name = ?", [(name,) for name in names])

    async def state_vectors(self, names: Sequence[str]) -> dict[str, bytes]:
        """The state vector of each document; an empty one for documents never held."""
        result = {name: self._docs[name].get_state() for name in names if name in self._docs}
        rest = [name for name in names if name not in result]
        for start in range(0, len(rest), _CHUNK):
            chunk = rest[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = await self._db.execute_fetchall(
                f"SELECT name, state_vector FROM documents WHERE name IN ({marks})", chunk)
            result.update({name: vector for name, vector in rows})
        return {name: result.get(name, EMPTY_STATE_VECTOR) for name in names}
