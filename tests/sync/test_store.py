"""Contract of ``Store``, run on every backend (``store`` is parametrised over SQLite and Postgres)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Array, Decoder, Doc, Map, Text
from sqlalchemy import event, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import create_async_engine

from sync.errors import ConfigError, StoreError
from sync.store import ConflictRecord, LogEntry, LogPosition, Projection, SqlStore, StoredDocument, upgrade
from sync.store.sql import compaction_lock_key
from sync.store.tables import updates as updates_table

TENANT = "acme"
DOC = "work_order:WO-1042"


def record_updates(count: int, *, key: str = "field") -> tuple[Doc, list[bytes]]:
    """A document edited ``count`` times by one client, and the update of each edit."""
    doc = Doc()
    record = doc.get("record", type=Map)
    items = doc.get("items", type=Array)
    captured: list[bytes] = []
    subscription = doc.observe(lambda event: captured.append(event.update))
    for i in range(count):
        if i % 2:
            record[f"{key}{i % 100}"] = i
        else:
            items.append(i)
    doc.unobserve(subscription)
    return doc, captured


def rebuild(stored: StoredDocument) -> Doc:
    doc = Doc()
    if stored.snapshot is not None:
        doc.apply_update(stored.snapshot)
    for update in stored.updates:
        doc.apply_update(update)
    return doc


def state_vector(doc: Doc) -> dict[int, int]:
    decoder = Decoder(doc.get_state())
    clocks: dict[int, int] = {}
    for _ in range(decoder.read_var_uint()):
        client = decoder.read_var_uint()
        clocks[client] = decoder.read_var_uint()
    return clocks


def assert_same(actual: Doc, expected: Doc) -> None:
    for root, kind in (("record", Map), ("items", Array)):
        assert actual.get(root, type=kind).to_py() == expected.get(root, type=kind).to_py()
    assert state_vector(actual) == state_vector(expected)


def entries(updates: list[bytes], *, tenant: str = TENANT, name: str = DOC) -> list[LogEntry]:
    return [LogEntry(tenant, name, update) for update in updates]


@pytest.fixture
def selects() -> Iterator[list[str]]:
    """SELECT statements sent by any engine while the test runs."""
    seen: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", on_execute)
    yield seen
    event.remove(Engine, "before_cursor_execute", on_execute)


async def test_append_then_load_preserves_order(store: SqlStore) -> None:
    doc, updates = record_updates(50)
    await store.append(entries(updates[:20]))
    await store.append(entries(updates[20:]))

    stored = await store.load(TENANT, DOC)

    assert stored.snapshot is None
    assert stored.updates == updates
    assert stored.log_length == 50
    assert await store.log_length(TENANT, DOC) == 50
    assert_same(rebuild(stored), doc)


async def test_load_of_unknown_document_is_empty(store: SqlStore) -> None:
    stored = await store.load(TENANT, "work_order:nothing")

    assert stored == StoredDocument(snapshot=None, updates=[])
    assert await store.log_length(TENANT, "work_order:nothing") == 0


async def test_tenants_are_isolated(store: SqlStore) -> None:
    _, a_updates = record_updates(3)
    _, b_updates = record_updates(5)
    await store.append(entries(a_updates, tenant="a") + entries(b_updates, tenant="b"))
    await store.compact("a", DOC)

    a, b = await store.load("a", DOC), await store.load("b", DOC)

    assert a.snapshot is not None and a.updates == []
    assert b.snapshot is None and b.updates == b_updates
    assert (await store.load("c", DOC)).log_length == 0


async def test_append_is_atomic(store: SqlStore) -> None:
    _, updates = record_updates(3)
    batch = entries(updates)
    batch.insert(1, LogEntry(TENANT, None, b"\x00\x00"))  # type: ignore[arg-type]

    with pytest.raises(StoreError) as refused:
        await store.append(batch)

    assert refused.value.__cause__ is not None
    assert await store.log_length(TENANT, DOC) == 0
    await store.append(entries(updates))  # the store is still usable
    assert (await store.load(TENANT, DOC)).updates == updates


async def test_append_of_nothing_does_nothing(store: SqlStore) -> None:
    await store.append([])

    assert await store.log_length(TENANT, DOC) == 0


async def test_compaction_folds_the_log(store: SqlStore) -> None:
    doc, updates = record_updates(10_000)
    for start in range(0, len(updates), 1000):
        await store.append(entries(updates[start:start + 1000]))

    assert await store.compact(TENANT, DOC) == 10_000

    stored = await store.load(TENANT, DOC)
    assert stored.snapshot is not None
    assert stored.updates == []
    assert await store.log_length(TENANT, DOC) == 0
    assert_same(rebuild(stored), doc)
    assert await store.compact(TENANT, DOC) == 0


async def test_appends_number_each_documents_entries_and_loads_say_how_far_they_hold(store: SqlStore) -> None:
    _, ups = record_updates(5)
    other = "work_order:WO-2"
    numbered = await store.append([LogEntry(TENANT, DOC, ups[0]), LogEntry(TENANT, other, ups[1]),
                                   LogEntry(TENANT, DOC, ups[2])])
    numbered += await store.append(entries(ups[3:]))

    assert [(e.name, e.seq) for e in numbered] == [(DOC, 1), (other, 1), (DOC, 2), (DOC, 3), (DOC, 4)]
    assert [e.update for e in numbered] == [ups[0], ups[1], ups[2], ups[3], ups[4]]
    assert await store.positions(TENANT, [DOC, other, "unknown"]) == {
        DOC: LogPosition(4, 0), other: LogPosition(1, 0), "unknown": LogPosition(),
    }
    assert await store.positions("another tenant", [DOC]) == {DOC: LogPosition()}
    loaded = await store.load(TENANT, DOC)
    assert (loaded.head, loaded.folded) == (4, 0)


async def test_compaction_moves_the_folded_position_and_can_wait_for_a_long_enough_log(store: SqlStore) -> None:
    doc, ups = record_updates(30)
    await store.append(entries(ups[:20]))

    assert await store.compact(TENANT, DOC, at_least=21) == 0, "a log shorter than asked is left alone"
    assert await store.compact(TENANT, DOC, at_least=20) == 20
    assert await store.positions(TENANT, [DOC]) == {DOC: LogPosition(20, 20)}
    await store.append(entries(ups[20:]))
    assert await store.compact(TENANT, DOC, at_least=20) == 0

    stored = await store.load(TENANT, DOC)
    assert (stored.head, stored.folded, len(stored.updates)) == (30, 20, 10)
    assert_same(rebuild(stored), doc)


async def test_compaction_folds_into_the_previous_snapshot(store: SqlStore) -> None:
    doc, updates = record_updates(300)
    await store.append(entries(updates[:200]))
    assert await store.compact(TENANT, DOC) == 200
    await store.append(entries(updates[200:]))

    assert_same(rebuild(await store.load(TENANT, DOC)), doc)
    assert await store.compact(TENANT, DOC) == 100

    stored = await store.load(TENANT, DOC)
    assert stored.updates == []
    assert_same(rebuild(stored), doc)


async def test_compaction_keeps_updates_whose_dependencies_are_missing(store: SqlStore) -> None:
    doc = Doc()
    text = doc.get("notes", type=Text)
    captured: list[bytes] = []
    doc.observe(lambda event: captured.append(event.update))
    text += "first"
    text += " second"
    await store.append(entries(captured[1:]))  # the second edit builds on the first, which is missing

    assert await store.compact(TENANT, DOC) == 1
    replica = rebuild(await store.load(TENANT, DOC))
    replica.apply_update(captured[0])

    assert str(replica.get("notes", type=Text)) == "first second"


async def test_compaction_concurrent_with_appends_loses_nothing(store: SqlStore) -> None:
    # Three devices edit the document; each one's updates reach the log in its own order (one
    # connection, acknowledged in order), interleaved with the others' and with compactions.
    writers = [record_updates(1500, key=f"w{w}-")[1] for w in range(3)]
    expected = Doc()
    for updates in writers:
        for update in updates:
            expected.apply_update(update)
    await store.append(entries(writers[0][:500]))
    appending = True
    folded: list[int] = []

    async def appender(updates: list[bytes]) -> None:
        for start in range(0, len(updates), 25):
            await store.append(entries(updates[start:start + 25]))
            await asyncio.sleep(0)

    async def compactor() -> None:
        while appending:
            folded.append(await store.compact(TENANT, DOC))
            await asyncio.sleep(0.001)

    async def appenders() -> None:
        nonlocal appending
        await asyncio.gather(appender(writers[0][500:]), appender(writers[1]), appender(writers[2]))
        appending = False

    await asyncio.gather(appenders(), compactor(), compactor())

    remaining = await store.log_length(TENANT, DOC)
    assert sum(folded) + remaining == 4500  # every entry folded exactly once, or still in the log
    # compactions folded whole prefixes of the numbered log: its length is known without counting it
    assert await store.positions(TENANT, [DOC]) == {DOC: LogPosition(4500, 4500 - remaining)}
    assert sum(1 for n in folded if n) > 1  # compactions really ran between appends
    assert_same(rebuild(await store.load(TENANT, DOC)), expected)
    await store.compact(TENANT, DOC)
    assert_same(rebuild(await store.load(TENANT, DOC)), expected)


async def test_load_many_is_batched(store: SqlStore, selects: list[str]) -> None:
    names = [f"work_order:WO-{i}" for i in range(1200)]
    docs = {name: record_updates(1 + i % 3) for i, name in enumerate(names[:-1])}
    await store.append([entry for name, (_, ups) in docs.items() for entry in entries(ups, name=name)])
    await store.compact(TENANT, names[0])
    selects.clear()

    loaded = await store.load_many(TENANT, names)

    assert len(selects) <= 6  # per 500 names: their log positions, then their snapshots and logs
    assert set(loaded) == set(names)
    assert loaded[names[-1]] == StoredDocument()
    assert loaded[names[0]].snapshot is not None and loaded[names[0]].updates == []
    for name, (doc, ups) in docs.items():
        assert_same(rebuild(loaded[name]), doc)
        if name != names[0]:
            assert loaded[name].updates == ups
    assert await store.load_many(TENANT, []) == {}


def projection(name: str, **changes: Any) -> Projection:
    fields: dict[str, Any] = {
        "tenant": TENANT, "name": name, "type": "work_order", "status": "open", "assignee": "tech-1",
        "updated_at": datetime(2025, 3, 1, 12, 0, tzinfo=UTC), "body": {"title": name, "tasks": [{"done": False}]},
    }
    fields.update(changes)
    return Projection(**fields)


async def test_projections_upsert_and_get(store: SqlStore) -> None:
    berlin = timezone(timedelta(hours=2))
    first = projection("work_order:WO-1", updated_at=datetime(2025, 3, 1, 14, 30, 15, 123456, tzinfo=berlin))
    await store.save_projections([first, projection("work_order:WO-2")])

    got = await store.get_projection(TENANT, "work_order:WO-1")
    assert got == first
    assert got is not None and got.updated_at.tzinfo == UTC

    changed = projection("work_order:WO-1", status="done", assignee=None, body={"title": "fixed", "n": 2})
    await store.save_projections([projection("work_order:WO-1", status="stale"), changed])
    assert await store.get_projection(TENANT, "work_order:WO-1") == changed
    assert await store.get_projection("other", "work_order:WO-1") is None
    assert await store.get_projection(TENANT, "work_order:missing") is None

    with pytest.raises(ValueError):
        await store.save_projections([projection("work_order:WO-3", updated_at=datetime(2025, 1, 1))])


async def test_query_projections_filters(store: SqlStore) -> None:
    base = datetime(2025, 3, 1, tzinfo=UTC)
    rows = [
        projection("work_order:WO-1", status="open", assignee="ana", updated_at=base),
        projection("work_order:WO-2", status="done", assignee="ana", updated_at=base + timedelta(hours=1)),
        projection("work_order:WO-3", status="open", assignee="ben", updated_at=base + timedelta(hours=2)),
        projection("warranty_claim:WC-1", type="warranty_claim", status="open", assignee=None,
                   updated_at=base + timedelta(hours=3)),
        projection("work_order:WO-1", tenant="other", updated_at=base + timedelta(hours=4)),
    ]
    await store.save_projections(rows)

    async def names(**filters: Any) -> list[str]:
        return [p.name for p in await store.query_projections(TENANT, **filters)]

    assert await names() == ["work_order:WO-1", "work_order:WO-2", "work_order:WO-3", "warranty_claim:WC-1"]
    assert await names(type="work_order", status="open") == ["work_order:WO-1", "work_order:WO-3"]
    assert await names(assignee="ana") == ["work_order:WO-1", "work_order:WO-2"]
    assert await names(updated_since=base + timedelta(hours=2)) == ["work_order:WO-3", "warranty_claim:WC-1"]
    assert await names(updated_since=(base + timedelta(hours=1)).astimezone(timezone(timedelta(hours=-5)))) == [
        "work_order:WO-2", "work_order:WO-3", "warranty_claim:WC-1",
    ]
    assert await names(type="work_order", limit=2) == ["work_order:WO-1", "work_order:WO-2"]
    assert await names(type="policy") == []
    assert (await store.query_projections("other"))[0].updated_at == base + timedelta(hours=4)


def conflict(name: str, key: str, **changes: Any) -> ConflictRecord:
    fields: dict[str, Any] = {
        "tenant": TENANT, "name": name, "field": "priority", "key": key, "kind": "conflict",
        "values": [{"value": "HIGH", "device": "d1", "user": "u1", "hlc": "a"},
                   {"value": "LOW", "device": "d2", "user": "u2", "hlc": "b"}],
        "winner": {"value": "LOW", "device": "d2", "user": "u2", "hlc": "b"},
        "created_at": datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
    }
    fields.update(changes)
    return ConflictRecord(**fields)


async def test_conflicts_are_saved_once_per_key_and_listed_with_filters(store: SqlStore) -> None:
    await store.save_conflicts([
        conflict("work_order:WO-1", "priority|b|a"),
        conflict("work_order:WO-1", "status|b|a", field="status", needs_review=True),
        conflict("work_order:WO-2", "status|b|a", field="status", needs_review=True),
        conflict("work_order:WO-2", "v1", kind="violation", code="invalid_transition", winner=None),
        conflict("work_order:WO-1", "priority|b|a", tenant="other"),
    ])
    # found again (another merge, another node): nothing new is stored, the first row is kept
    await store.save_conflicts([conflict("work_order:WO-1", "priority|b|a", values=[])])
    await store.save_conflicts([])

    rows = await store.list_conflicts(TENANT)
    assert [(r.name, r.key) for r in rows] == [
        ("work_order:WO-1", "priority|b|a"), ("work_order:WO-1", "status|b|a"),
        ("work_order:WO-2", "status|b|a"), ("work_order:WO-2", "v1"),
    ]
    first = rows[0]
    assert first.id is not None and first.status == "open" and first.values[0]["value"] == "HIGH"
    assert first.created_at == datetime(2025, 3, 1, 12, 0, tzinfo=UTC) and first.resolved_at is None
    assert rows[3].winner is None and rows[3].code == "invalid_transition" and rows[3].kind == "violation"
    assert [r.key for r in await store.list_conflicts(TENANT, needs_review=True, name="work_order:WO-2")] == [
        "status|b|a"
    ]
    assert len(await store.list_conflicts(TENANT, needs_review=False)) == 2
    assert len(await store.list_conflicts(TENANT, limit=1)) == 1
    assert len(await store.list_conflicts("other")) == 1
    assert await store.get_conflict(TENANT, first.id) == first
    assert await store.get_conflict("other", first.id) is None, "another tenant's id is not found"
    with pytest.raises(ValueError):
        await store.save_conflicts([conflict("work_order:WO-3", "k", created_at=datetime(2025, 1, 1))])


async def test_resolving_a_conflict_records_who_and_what_once(store: SqlStore) -> None:
    await store.save_conflicts([conflict("work_order:WO-1", "status|b|a", needs_review=True)])
    (row,) = await store.list_conflicts(TENANT, status="open", needs_review=True)
    assert row.id is not None

    assert await store.resolve_conflict("other", row.id, {"value": "HIGH"}, "sup-1") is None
    resolved = await store.resolve_conflict(TENANT, row.id, {"value": "HIGH"}, "sup-1")

    assert resolved is not None and resolved.status == "resolved"
    assert (resolved.resolved_by, resolved.resolution) == ("sup-1", {"value": "HIGH"})
    assert resolved.resolved_at is not None and resolved.resolved_at.tzinfo == UTC
    assert await store.resolve_conflict(TENANT, row.id, {"value": "LOW"}, "sup-2") is None, "only once"
    assert await store.list_conflicts(TENANT, status="open") == []
    assert await store.get_conflict(TENANT, row.id) == resolved
    assert await store.resolve_conflict(TENANT, 10**9, {}, "sup-1") is None


async def test_ping(store: SqlStore) -> None:
    await store.ping()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_ping_of_an_unreachable_database_raises_store_error(kind: str, tmp_path: Path) -> None:
    url = {
        "sqlite": f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/hub.db",
        "postgres": "postgresql+asyncpg://postgres@127.0.0.1:1/fieldsync",
    }[kind]
    threads_before = set(threading.enumerate())
    store = SqlStore(url)
    await store.start()
    try:
        with pytest.raises(StoreError) as failed:
            await store.ping()
        assert failed.value.__cause__ is not None
    finally:
        await store.close()
    # aiosqlite stops the worker thread of a failed connection without waiting for it; let it finish
    # while this loop still runs, or it reports into a closed loop during a later test.
    for thread in set(threading.enumerate()) - threads_before:
        await asyncio.to_thread(thread.join, 5)


async def test_a_store_that_is_not_started_raises_store_error(sqlite_url: str) -> None:
    with pytest.raises(StoreError):
        await SqlStore(sqlite_url).load(TENANT, DOC)


async def test_sqlite_is_configured_for_durable_writes(sqlite_url: str, tmp_path: Path) -> None:
    await upgrade(sqlite_url)
    store = SqlStore(sqlite_url, sqlite_synchronous="normal")
    await store.start()
    try:
        await store.ping()
        with closing(sqlite3.connect(tmp_path / "hub.db")) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        await store.close()
    await store.start()  # a closed store starts again
    await store.ping()
    await store.close()


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("mysql+aiomysql://db/fieldsync", {}),
        ("not a url", {}),
        ("sqlite+aiosqlite:///hub.db", {"sqlite_synchronous": "sometimes"}),
        ("sqlite+aiosqlite:///hub.db", {"pool_size": 0}),
    ],
)
def test_invalid_settings_are_refused(url: str, options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        SqlStore(url, **options)


@pytest.mark.postgres
async def test_compaction_skips_a_document_locked_by_another_node(postgres_url: str) -> None:
    store = SqlStore(postgres_url)
    await store.start()
    other_node = create_async_engine(postgres_url)
    try:
        _, updates = record_updates(10)
        await store.append(entries(updates))
        async with other_node.begin() as conn:
            await conn.execute(select(func.pg_advisory_xact_lock(compaction_lock_key(TENANT, DOC))))
            assert await store.compact(TENANT, DOC) == 0
            assert await store.log_length(TENANT, DOC) == 10
        assert await store.compact(TENANT, DOC) == 10
    finally:
        await other_node.dispose()
        await store.close()


@pytest.mark.postgres
async def test_two_nodes_compacting_one_document_fold_each_entry_once(postgres_url: str) -> None:
    nodes = [SqlStore(postgres_url), SqlStore(postgres_url)]
    for node in nodes:
        await node.start()
    doc, updates = record_updates(2000)
    try:
        await nodes[0].append(entries(updates[:1000]))

        async def keep_appending() -> None:
            for start in range(1000, 2000, 100):
                await nodes[1].append(entries(updates[start:start + 100]))

        results = await asyncio.gather(keep_appending(), *(node.compact(TENANT, DOC) for node in nodes for _ in range(5)))
        folded = sum(results[1:]) + await nodes[0].compact(TENANT, DOC)
        assert folded == 2000, "every entry folded exactly once, whichever node did it"
        assert await nodes[1].positions(TENANT, [DOC]) == {DOC: LogPosition(2000, 2000)}
        stored = await nodes[1].load(TENANT, DOC)
        assert stored.updates == []
        assert_same(rebuild(stored), doc)
    finally:
        for node in nodes:
            await node.close()


@pytest.mark.postgres
async def test_compaction_keeps_a_smaller_id_that_commits_later(postgres_url: str) -> None:
    store = SqlStore(postgres_url)
    await store.start()
    slow_writer = create_async_engine(postgres_url)
    doc, updates = record_updates(2)
    try:
        async with slow_writer.connect() as conn:
            await conn.begin()
            await conn.execute(insert(updates_table).values(tenant=TENANT, name=DOC, data=updates[0]))
            await store.append(entries(updates[1:]))  # gets a larger id, commits first
            assert await store.compact(TENANT, DOC) == 1
            await conn.commit()

        stored = await store.load(TENANT, DOC)
        assert stored.updates == updates[:1]
        assert_same(rebuild(stored), doc)
    finally:
        await slow_writer.dispose()
        await store.close()
