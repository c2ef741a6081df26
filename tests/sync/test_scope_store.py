"""The store's side of scopes, on every backend: projection change numbers, member queries, the migration."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from sync.access import Principal
from sync.scopes import ScopeRegistry, load_definitions
from sync.store import Projection, ProjectionChange, SqlStore, upgrade
from sync.store.migrate import alembic_config
from sync.store.tables import JsonBody, UtcDateTime

TENANT = "acme"
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
SUPERVISOR = Principal(user="sup", tenant=TENANT, device="d", roles=frozenset({"supervisor"}))


def row(name: str, status: str | None = "OPEN", assignee: str | None = "ana", *, tenant: str = TENANT,
        record: dict[str, Any] | None = None, at: datetime = T0) -> Projection:
    kind = name.partition(":")[0]
    body = {"record": {"status": status, **(record or {})}, "notes": [{"text": "kept out of scope queries"}]}
    return Projection(tenant=tenant, name=name, type=kind, status=status, assignee=assignee, updated_at=at, body=body)


@pytest.fixture(scope="module")
def registry() -> ScopeRegistry:
    return load_definitions()


async def test_every_save_numbers_its_rows_after_the_tenants_last_number(store: SqlStore) -> None:
    assert await store.projection_seq(TENANT) == 0
    assert await store.projections_changed_since(TENANT, 0) == []

    await store.save_projections([row("work_order:WO-1"), row("work_order:WO-2"), row("work_order:WO-1", "CLOSED"),
                                  row("work_order:WO-1", tenant="globex")])
    assert await store.projection_seq(TENANT) == 2, "a name repeated in one save is one row"
    assert await store.projection_seq("globex") == 1, "each tenant counts on its own"

    await store.save_projections([row("work_order:WO-3")])
    await store.save_projections([row("work_order:WO-1", "IN_PROGRESS", "ben")])
    assert await store.projection_seq(TENANT) == 4

    changes = await store.projections_changed_since(TENANT, 0)
    assert [(c.name, c.seq) for c in changes] == [("work_order:WO-2", 2), ("work_order:WO-3", 3), ("work_order:WO-1", 4)]
    assert changes[-1] == ProjectionChange("work_order:WO-1", "work_order", "IN_PROGRESS", "ben",
                                           {"status": "IN_PROGRESS"}, 4), "the latest state, record map only"
    assert [c.name for c in await store.projections_changed_since(TENANT, 2)] == ["work_order:WO-3", "work_order:WO-1"]
    assert [c.seq for c in await store.projections_changed_since(TENANT, 0, limit=2)] == [2, 3]
    assert await store.projections_changed_since(TENANT, 4) == []
    with pytest.raises(ValueError):
        await store.projections_changed_since(TENANT, 0, limit=0)


async def test_whoever_sees_number_n_sees_every_row_numbered_below_it(store_url: str) -> None:
    """Saves racing on separate connections: a reader never finds a gap below the counter it read."""
    writers = [SqlStore(store_url) for _ in range(4)]
    reader = SqlStore(store_url)
    for store in (*writers, reader):
        await store.start()
    done = False

    async def write(n: int, store: SqlStore) -> None:
        for i in range(25):  # new names every time: each row keeps the number it was given
            await store.save_projections([row(f"work_order:WO-{n}-{i}-{j}") for j in range(2)])

    async def read() -> int:
        checks = 0
        while not done or checks == 0:
            seq = await reader.projection_seq(TENANT)
            seen = {c.seq for c in await reader.projections_changed_since(TENANT, 0, limit=10_000)}
            assert set(range(1, seq + 1)) <= seen, f"a row numbered below {seq} is not visible yet"
            checks += 1
            await asyncio.sleep(0)
        return checks

    try:
        checking = asyncio.create_task(read())
        await asyncio.gather(*(write(n, store) for n, store in enumerate(writers)))
        done = True
        assert await checking > 0
        changes = await reader.projections_changed_since(TENANT, 0, limit=10_000)
        assert sorted(c.seq for c in changes) == list(range(1, 201))
        assert await reader.projection_seq(TENANT) == 200
    finally:
        for store in (*writers, reader):
            await store.close()


async def test_scope_members_are_filtered_by_every_condition_of_the_scope(store: SqlStore, registry: ScopeRegistry) -> None:
    await store.save_projections([
        row("work_order:WO-1", "OPEN", "ana"),
        row("work_order:WO-2", "SCHEDULED", "ana"),
        row("work_order:WO-3", "CLOSED", "ana"),
        row("work_order:WO-4", "OPEN", "ben"),
        row("work_order:WO-5", "OPEN", "ana", record={"deleted": True}),
        row("work_order:WO-6", "OPEN", "ana", tenant="globex"),
        row("warranty_claim:WC-1", "SUBMITTED", None, record={"team": "north"}),
        row("warranty_claim:WC-2", "SUBMITTED", None, record={"team": "south"}),
        row("warranty_claim:WC-3", "COMPLETED", None, record={"team": "north"}),
        row("policy:P-1", "ACTIVE", "agent-1"),
        row("policy:P-2", "ACTIVE", "agent-1"),
        row("insurance_claim:IC-1", "REPORTED", None, record={"policy_id": "P-1"}),
        row("insurance_claim:IC-2", "CLOSED", None, record={"policy_id": "P-1"}),
        row("insurance_claim:IC-3", "REPORTED", None, record={"policy_id": "P-2"}),
    ])

    async def members(scope: str, **params: str) -> list[str]:
        return await store.scope_members(TENANT, registry.resolve(SUPERVISOR, scope, params))

    assert await members("my_work_orders", user="ana") == ["work_order:WO-1", "work_order:WO-2"]
    assert await members("my_work_orders", user="nobody") == []
    assert await members("team_warranty_claims", team="north") == ["warranty_claim:WC-1"]
    assert await members("policy_with_claims", policy="P-1") == [
        "insurance_claim:IC-1", "insurance_claim:IC-2", "policy:P-1",
    ]
    everything = await members("tenant")
    assert len(everything) == 12 and "work_order:WO-5" not in everything and "work_order:WO-6" not in everything


async def test_the_migration_numbers_existing_projections_and_starts_the_counters_after_them(empty_url: str) -> None:
    await upgrade(empty_url, "0002")
    old = sa.table(
        "projections", sa.column("tenant"), sa.column("name"), sa.column("type"), sa.column("status"),
        sa.column("assignee"), sa.column("updated_at", UtcDateTime()), sa.column("body", JsonBody),
    )
    engine = create_async_engine(empty_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.insert(old), [
                {"tenant": tenant, "name": name, "type": "work_order", "status": "OPEN", "assignee": "ana",
                 "updated_at": T0 + timedelta(minutes=minute), "body": {"record": {}}}
                for tenant, name, minute in [
                    (TENANT, "work_order:WO-b", 1), (TENANT, "work_order:WO-a", 2), (TENANT, "work_order:WO-c", 0),
                    ("globex", "work_order:WO-a", 5),
                ]
            ])
    finally:
        await engine.dispose()

    await upgrade(empty_url)

    store = SqlStore(empty_url)
    await store.start()
    try:
        assert [(c.name, c.seq) for c in await store.projections_changed_since(TENANT, 0)] == [
            ("work_order:WO-c", 1), ("work_order:WO-b", 2), ("work_order:WO-a", 3),
        ], "numbered oldest first"
        assert (await store.projection_seq(TENANT), await store.projection_seq("globex")) == (3, 1)
        await store.save_projections([row("work_order:WO-b", "CLOSED")])
        assert [(c.name, c.seq) for c in await store.projections_changed_since(TENANT, 3)] == [("work_order:WO-b", 4)]
    finally:
        await store.close()


async def test_downgrading_0003_removes_the_numbers(sqlite_url: str) -> None:
    await upgrade(sqlite_url)
    await asyncio.to_thread(command.downgrade, alembic_config(sqlite_url), "0002")

    def look(conn: sa.Connection) -> tuple[set[str], set[str]]:
        inspector = sa.inspect(conn)
        return set(inspector.get_table_names()), {column["name"] for column in inspector.get_columns("projections")}

    engine = create_async_engine(sqlite_url)
    try:
        async with engine.connect() as conn:
            tables, columns = await conn.run_sync(look)
    finally:
        await engine.dispose()
    assert "projection_sequences" not in tables and "seq" not in columns and "projections" in tables
    await upgrade(sqlite_url)


