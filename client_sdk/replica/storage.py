"""The replica's SQLite file: opening it (WAL, ``synchronous=FULL``), its tables, its meta rows, its transactions.

Each table belongs to the module that reads and writes it (``documents``, ``follows``, ``outbox``,
``projections``, ``rejections``, ``scopes``); this one creates them all when the file is opened, so a file is never half
set up, and claims the file for one device for life.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import aiosqlite

from client_sdk.replica import documents, follows, outbox, projections, rejections, scopes
from client_sdk.errors import ReplicaError
from conflict import HlcTimestamp

T = TypeVar("T")

META_SCHEMA = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"

#: Every table of a replica file, created (if missing) each time one is opened.
SCHEMA = "\n".join([META_SCHEMA, documents.SCHEMA, follows.SCHEMA, outbox.SCHEMA, projections.SCHEMA,
                    rejections.SCHEMA, scopes.SCHEMA])


async def open_file(path: Path, device: str, load: Callable[[aiosqlite.Connection], Awaitable[T]],
                    ) -> tuple[aiosqlite.Connection, HlcTimestamp | None, T]:
    """Open (or create) the file of ``device`` and ``load`` what is kept in memory from it.

    Returns the open file, the device's last HLC time saved in it and what ``load`` returned.
    ``ReplicaError`` when the file cannot be opened or read, or belongs to another device (it is closed then).
    """
    try:
        db = await aiosqlite.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise ReplicaError(f"cannot open {path}: {exc}") from exc
    try:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=FULL")
        await db.execute("PRAGMA busy_timeout=5000")
        await db.executescript(SCHEMA)
        meta = dict(await db.execute_fetchall("SELECT key, value FROM meta"))
        if meta.setdefault("device", device) != device:
            raise ReplicaError(f"{path} is the replica of device {meta['device']!r}, not {device!r}")
        await db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('device', ?)", (device,))
        loaded = await load(db)
    except BaseException as exc:
        await db.close()
        if isinstance(exc, sqlite3.Error):
            raise ReplicaError(f"cannot open {path}: {exc}") from exc
        raise
    return db, HlcTimestamp.decode(meta["hlc"]) if "hlc" in meta else None, loaded


async def save_hlc(db: aiosqlite.Connection, last: HlcTimestamp) -> None:
    """Keep the device's last HLC time (inside the edit's transaction), so a restart never goes back."""
    await db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('hlc', ?)", (last.encode(),))


@asynccontextmanager
async def transaction(db: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """One ``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any exception, SQLite's as ``ReplicaError``."""
    try:
        await db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")
    except sqlite3.Error as exc:
        raise ReplicaError(f"replica write failed: {exc}") from exc
