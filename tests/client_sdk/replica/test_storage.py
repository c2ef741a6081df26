"""The replica file: every table created at open, one device per file, transactions that roll back whole."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest

from client_sdk import ReplicaError
from client_sdk.replica import storage


async def _nothing(db: aiosqlite.Connection) -> None:
    return None


async def test_opening_creates_every_table_and_claims_the_file(tmp_path: Path) -> None:
    db, last, loaded = await storage.open_file(tmp_path / "d.db", "d1", _nothing)
    tables = {row[0] for row in await db.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"meta", "documents", "followed", "outbox", "projections", "scopes", "scope_members",
            "scope_leaving"} <= tables
    assert (last, loaded) == (None, None)
    await db.close()
    with pytest.raises(ReplicaError, match="d1"):
        await storage.open_file(tmp_path / "d.db", "d2", _nothing)


async def test_a_failed_load_closes_the_file_and_says_so(tmp_path: Path) -> None:
    async def broken(db: aiosqlite.Connection) -> None:
        await db.execute("SELECT * FROM no_such_table")

    with pytest.raises(ReplicaError, match="cannot open"):
        await storage.open_file(tmp_path / "d.db", "d1", broken)


async def test_a_transaction_is_all_or_nothing(tmp_path: Path) -> None:
    db, _, _ = await storage.open_file(tmp_path / "d.db", "d1", _nothing)
    with pytest.raises(ValueError):
        async with storage.transaction(db):
            await db.execute("INSERT INTO followed (name, since) VALUES ('work_order:WO-1', 0)")
            raise ValueError("app bug")
    assert await db.execute_fetchall("SELECT name FROM followed") == []
    with pytest.raises(ReplicaError):
        async with storage.transaction(db):
            await db.execute("INSERT INTO no_such_table VALUES (1)")
    await db.close()
