"""Run the Alembic migrations from code, from any working directory and inside a running event loop."""

from __future__ import annotations

import asyncio
from importlib.util import find_spec
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from sync.errors import StoreError
from sync.store.sql import describe_error

__all__ = ["MIGRATIONS_DIR", "alembic_config", "schema_revisions", "upgrade"]

def _script_location() -> Path:
    # Found, not imported: the scripts are Alembic's to load (they import ``sync.store.tables``, not the reverse).
    spec = find_spec("migrations")
    if spec is None or not spec.submodule_search_locations:
        raise StoreError("the migrations package is not installed next to fieldsync")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


MIGRATIONS_DIR = _script_location()
"""The installed ``migrations`` package: Alembic's script location."""


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the database at ``url``, independent of any ``alembic.ini``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # The options are a ConfigParser, which treats '%' (URL-encoded passwords) as interpolation.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision``; a no-op when it is already there."""
    config = alembic_config(url)
    try:
        # env.py runs its own event loop, so Alembic gets a thread of its own.
        await asyncio.to_thread(command.upgrade, config, revision)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"migration to {revision} failed: {describe_error(exc)}") from exc


async def schema_revisions(url: str) -> tuple[str | None, str]:
    """The database's schema revision (``None`` before the first migration) and the newest one there is."""
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head() or ""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"reading the schema revision failed: {describe_error(exc)}") from exc
    finally:
        await engine.dispose()
    return current, head
