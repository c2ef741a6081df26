"""Documents followed by name: the memory changes only once the write has committed."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from client_sdk.replica import storage
from client_sdk.replica.follows import Follows


async def _follows(db: aiosqlite.Connection) -> Follows:
    follows = Follows(db)
    await follows.load()
    return follows


async def test_follows_are_kept_in_the_file_and_in_memory_after_commit(tmp_path: Path) -> None:
    db, _, follows = await storage.open_file(tmp_path / "d.db", "d1", _follows)
    async with storage.transaction(db):
        committed = await follows.add(["work_order:WO-1", "work_order:WO-2"], 0.0)
        assert "work_order:WO-1" not in follows, "not before the commit"
    committed()
    assert follows.names() == {"work_order:WO-1", "work_order:WO-2"}
    async with storage.transaction(db):
        removed = await follows.remove(["work_order:WO-2"])
    removed()
    await db.close()
    db, _, reopened = await storage.open_file(tmp_path / "d.db", "d1", _follows)
    assert reopened.names() == {"work_order:WO-1"} and "work_order:WO-1" in reopened
    await db.close()
