"""Real databases for tests: a SQLite file per test, and a fresh Postgres database per test.

Postgres databases are cloned (``CREATE DATABASE ... TEMPLATE``) from one database migrated once per
session. The server comes from ``FIELDSYNC_TEST_POSTGRES_URL``; when it cannot be reached the tests
that need it fail with a message saying so: a missing database is never a reason to skip.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import URL, make_url

from sync.store.migrate import upgrade
from sync.store.sql import SqlStore

POSTGRES_URL_ENV = "FIELDSYNC_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on a private event loop in a worker thread.

    Database provisioning happens outside the test's own loop, so these fixtures serve sync and async
    tests alike and never disturb pytest-asyncio's loops.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@dataclass(frozen=True, slots=True)
class PostgresServer:
    """The test Postgres server and the migrated template database new test databases are cloned from."""

    base: URL
    """SQLAlchemy URL of a database we may connect to for CREATE and DROP DATABASE."""

    template: str
    """Name of the migrated template database."""

    def url(self, database: str) -> str:
        """SQLAlchemy (asyncpg) URL of ``database`` on this server."""
        return self.base.set(database=database).render_as_string(hide_password=False)

    async def execute(self, *statements: str) -> None:
        """Run statements on the maintenance database, outside any transaction (as CREATE DATABASE needs)."""
        dsn = self.base.set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def create(self, *, migrated: bool) -> str:
        """A new, uniquely named database: a clone of the template, or empty; returns its name."""
        name = f"fieldsync_t_{uuid.uuid4().hex[:16]}"
        clone = f' TEMPLATE "{self.template}"' if migrated else ""
        await self.execute(f'CREATE DATABASE "{name}"{clone}')
        return name

    async def drop(self, name: str) -> None:
        await self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_base() -> URL:
    url = make_url(os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL))
    if url.get_backend_name() != "postgresql":
        pytest.fail(f"{POSTGRES_URL_ENV} must be a postgresql+asyncpg:// URL, got {url.drivername}", pytrace=False)
    return url.set(drivername="postgresql+asyncpg")


async def _provision(base: URL) -> PostgresServer:
    server = PostgresServer(base=base, template=f"fieldsync_tpl_{uuid.uuid4().hex[:16]}")
    await server.execute(f'CREATE DATABASE "{server.template}"')
    try:
        await upgrade(server.url(server.template))
    except BaseException:
        await server.drop(server.template)
        raise
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The Postgres server with a migrated template database, for the whole session."""
    base = _postgres_base()
    shown = base.render_as_string(hide_password=True)
    try:
        server = run_sync(_provision(base))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    else:
        problem = None
    if problem is not None:
        pytest.fail(
            f"PostgreSQL is required and not usable at {shown} ({problem}). Start it with "
            f"`pg_ctlcluster --skip-systemctl-redirect <version> main start` or set {POSTGRES_URL_ENV}.",
            pytrace=False,
        )
    yield server
    run_sync(server.drop(server.template))


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a fresh, migrated Postgres database of this test's own; dropped afterwards."""
    name = run_sync(postgres_server.create(migrated=True))
    yield postgres_server.url(name)
    run_sync(postgres_server.drop(name))


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a new, empty (unmigrated) Postgres database; dropped afterwards."""
    name = run_sync(postgres_server.create(migrated=False))
    yield postgres_server.url(name)
    run_sync(postgres_server.drop(name))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a SQLite file in this test's temporary directory; nothing is created yet."""
    return f"sqlite+aiosqlite:///{tmp_path}/hub.db"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def empty_url(request: pytest.FixtureRequest) -> str:
    """A database with no tables yet, on each backend."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "fresh_postgres_url"))


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def store_url(request: pytest.FixtureRequest) -> str:
    """A migrated database URL, once per backend: the contract suites run on both."""
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
        run_sync(upgrade(url))
        return url
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[SqlStore]:
    """A started ``SqlStore`` on ``store_url``, closed after the test."""
    store = SqlStore(store_url)
    await store.start()
    try:
        yield store
    finally:
        await store.close()
