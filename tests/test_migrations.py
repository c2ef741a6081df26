"""The Alembic migrations, on a fresh SQLite file and a fresh Postgres database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from sync.errors import StoreError
from sync.store import upgrade
from sync.store.migrate import alembic_config, current_revision
from sync.store.tables import Base, updates

REPO_ROOT = Path(__file__).resolve().parents[1]
TABLES = {"documents", "document_logs", "updates", "projections", "devices", "conflicts"}
HEAD = "0007"
INDEXES = {
    "updates": {"ix_updates_tenant_name_id"},
    "projections": {
        "ix_projections_tenant_type_status", "ix_projections_tenant_assignee", "ix_projections_tenant_updated_at",
        "ix_projections_tenant_seq", "ix_projections_tenant_type_due_at_name", "ix_projections_tenant_team",
        "ix_projections_tenant_name", "ix_projections_tenant_due_at_name",
    },
    "conflicts": {"ix_conflicts_tenant_status_needs_review", "ix_conflicts_tenant_name"},
}


async def inspect_database(url: str, look: Any) -> Any:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(look)
    finally:
        await engine.dispose()


def schema(conn: Connection) -> dict[str, set[str]]:
    inspector = inspect(conn)
    return {table: {index["name"] for index in inspector.get_indexes(table)} for table in inspector.get_table_names()}


def version(conn: Connection) -> str | None:
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


async def test_upgrade_creates_every_table(empty_url: str) -> None:
    assert not TABLES & set(await inspect_database(empty_url, schema))

    await upgrade(empty_url)

    found = await inspect_database(empty_url, schema)
    assert TABLES <= set(found)
    for table, indexes in INDEXES.items():
        assert indexes <= found[table]
    assert await inspect_database(empty_url, version) == HEAD


async def test_upgrade_twice_is_a_no_op(empty_url: str) -> None:
    await upgrade(empty_url)
    engine = create_async_engine(empty_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(updates).values(tenant="acme", name="work_order:WO-1", data=b"\x00\x00"))

        await upgrade(empty_url)

        async with engine.connect() as conn:
            assert (await conn.execute(select(updates.c.name))).scalars().all() == ["work_order:WO-1"]
    finally:
        await engine.dispose()
    assert await inspect_database(empty_url, version) == HEAD


async def test_models_match_the_migrations(empty_url: str) -> None:
    await upgrade(empty_url)

    def differences(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    assert await inspect_database(empty_url, differences) == []


async def test_downgrade_to_base_removes_every_table(sqlite_url: str) -> None:
    await upgrade(sqlite_url)

    await asyncio.to_thread(command.downgrade, alembic_config(sqlite_url), "base")

    assert not TABLES & set(await inspect_database(sqlite_url, schema))
    await upgrade(sqlite_url)
    assert TABLES <= set(await inspect_database(sqlite_url, schema))


async def test_0007_numbers_the_entries_already_in_the_log(empty_url: str) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(empty_url), "0006")
    engine = create_async_engine(empty_url)
    try:
        async with engine.begin() as conn:
            for name in ("work_order:WO-1", "work_order:WO-2", "work_order:WO-1"):
                await conn.execute(text("INSERT INTO updates (tenant, name, data) VALUES ('acme', :name, :data)"),
                                   {"name": name, "data": b"\x00\x00"})

        await upgrade(empty_url)

        async with engine.connect() as conn:
            numbered = (await conn.execute(text("SELECT name, seq FROM updates ORDER BY id"))).all()
            heads = (await conn.execute(text("SELECT name, head, folded FROM document_logs ORDER BY name"))).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in numbered] == [("work_order:WO-1", 1), ("work_order:WO-2", 1), ("work_order:WO-1", 2)]
    assert [tuple(row) for row in heads] == [("work_order:WO-1", 2, 0), ("work_order:WO-2", 1, 0)]


async def test_downgrade_of_0002_removes_only_the_conflicts_table(sqlite_url: str) -> None:
    await upgrade(sqlite_url)

    await asyncio.to_thread(command.downgrade, alembic_config(sqlite_url), "0001")

    found = set(await inspect_database(sqlite_url, schema))
    assert "conflicts" not in found and TABLES - {"conflicts", "document_logs"} <= found
    assert await inspect_database(sqlite_url, version) == "0001"


def test_alembic_command_line_reads_the_database_url_from_the_environment(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    env = {**os.environ, "FIELDSYNC_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}

    subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(REPO_ROOT / "alembic.ini"), "upgrade", "head"],
        cwd=tmp_path, env=env, check=True, capture_output=True, timeout=120,
    )

    assert TABLES <= set(asyncio.run(inspect_database(f"sqlite+aiosqlite:///{database}", schema)))


async def test_upgrade_of_an_unreachable_database_raises_store_error() -> None:
    with pytest.raises(StoreError):
        await upgrade("postgresql+asyncpg://postgres@127.0.0.1:1/fieldsync")


async def test_upgrade_says_whether_it_changed_the_schema(empty_url: str) -> None:
    assert await upgrade(empty_url) is True
    assert await upgrade(empty_url) is False
    assert await current_revision(empty_url) == HEAD


@pytest.mark.postgres
async def test_nodes_upgrading_one_postgres_at_once_migrate_it_once(fresh_postgres_url: str) -> None:
    results = await asyncio.gather(*(upgrade(fresh_postgres_url) for _ in range(3)))
    assert sorted(results) == [False, False, True]
    assert await inspect_database(fresh_postgres_url, version) == HEAD
