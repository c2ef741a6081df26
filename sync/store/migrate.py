"""Run the Alembic migrations from code, from any working directory and inside a running event loop.

On Postgres, several hub nodes may start at the same moment on one database: each takes one advisory lock
around the upgrade, so exactly one of them migrates and the others find the schema current when the lock
is theirs. SQLite has one node by definition (the server refuses Redis with it) and needs no lock.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.util import find_spec
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from sync.errors import StoreError
from sync.store.sql import describe_error

__all__ = ["MIGRATION_LOCK_KEY", "MIGRATIONS_DIR", "alembic_config", "current_revision", "schema_revisions", "upgrade"]

def _script_location() -> Path:
    # Found, not imported: the scripts are Alembic's to load (they import ``sync.store.tables``, not the reverse).
    spec = find_spec("migrations")
    if spec is None or not spec.submodule_search_locations:
        raise StoreError("the migrations package is not installed next to fieldsync")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


MIGRATIONS_DIR = _script_location()
"""The installed ``migrations`` package: Alembic's script location."""

MIGRATION_LOCK_KEY = int.from_bytes(hashlib.blake2b(b"fieldsync-migrations", digest_size=8).digest(), "big", signed=True)
"""The Postgres advisory lock held while one node migrates."""


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the database at ``url``, independent of any ``alembic.ini``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # The options are a ConfigParser, which treats '%' (URL-encoded passwords) as interpolation.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(url: str, revision: str = "head") -> bool:
    """Migrate the database at ``url`` to ``revision``; True when this call changed the schema, False when it
    was already there (another node may have just migrated it)."""
    config = alembic_config(url)
    try:
        async with _exclusive(url) as conn:
            before = await conn.run_sync(_revision)
            # env.py runs its own event loop, so Alembic gets a thread of its own.
            await asyncio.to_thread(command.upgrade, config, revision)
            after = await conn.run_sync(_revision)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"migration to {revision} failed: {describe_error(exc)}") from exc
    return before != after


async def current_revision(url: str) -> str | None:
    """The schema revision of the database at ``url`` (``None``: never migrated)."""
    try:
        async with _exclusive(url, lock=False) as conn:
            return await conn.run_sync(_revision)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"reading the schema revision failed: {describe_error(exc)}") from exc


@asynccontextmanager
async def _exclusive(url: str, *, lock: bool = True) -> AsyncIterator[AsyncConnection]:
    """A connection outside any transaction; on Postgres it holds the migration lock (``lock``) meanwhile."""
    engine = create_async_engine(url, poolclass=NullPool)
    postgres = make_url(url).get_backend_name() == "postgresql"
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            if lock and postgres:
                await conn.execute(select(func.pg_advisory_lock(MIGRATION_LOCK_KEY)))
            try:
                yield conn
            finally:
                if lock and postgres:
                    await conn.execute(select(func.pg_advisory_unlock(MIGRATION_LOCK_KEY)))
    finally:
        await engine.dispose()


def _revision(conn: object) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()  # type: ignore[arg-type]


async def schema_revisions(url: str) -> tuple[str | None, str]:
    """The database's schema revision (``None`` before the first migration) and the newest one there is."""
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head() or ""
    return await current_revision(url), head
