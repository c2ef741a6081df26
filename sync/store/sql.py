"""``SqlStore``: the one ``Store`` implementation, on SQLAlchemy's asyncio engine over SQLite or Postgres."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from pycrdt import get_state, merge_updates
from sqlalchemy import Row, delete, event, func, insert, literal_column, select, text, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from sync.errors import ConfigError, StoreError
from sync.store.base import Store
from sync.store.columns import DERIVED_COLUMNS, derived_columns
from sync.store.records import LogEntry, LogPosition, Projection, StoredDocument
from sync.store.sql_conflicts import ConflictTable
from sync.store.sql_devices import DeviceTable
from sync.store.sql_listing import ListingQueries
from sync.store.sql_positions import advance_heads, read_positions
from sync.store.sql_scopes import ScopeQueries
from sync.store.tables import document_logs, documents, projections, updates

__all__ = ["SqlStore", "compaction_lock_key", "describe_error"]

T = TypeVar("T")

# Connection refused and timeouts surface as OSError (asyncpg raises them before SQLAlchemy can wrap them).
_DRIVER_ERRORS = (SQLAlchemyError, OSError)
_SQLITE_SYNCHRONOUS = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})
_SQLITE_BUSY_TIMEOUT_MS = 10_000
_SQLITE_BEGIN = "fieldsync_sqlite_begin"
_POSTGRES_CONNECT_TIMEOUT = 10.0
# Bound parameters per IN list: well under SQLite's and asyncpg's limits, and a small statement to plan.
_IN_CHUNK = 500
# merge_updates is quadratic-ish in its argument count and holds the GIL; folding in chunks is faster
# overall and lets the event loop run between chunks.
_MERGE_CHUNK = 500
_PROJECTION_FIELDS = ("type", "status", "assignee", "updated_at", "body")
_PROJECTION_COLUMNS = ("tenant", "name", *_PROJECTION_FIELDS)


def compaction_lock_key(tenant: str, name: str) -> int:
    """The Postgres advisory lock key guarding compaction of one document: stable across processes."""
    digest = hashlib.blake2b(f"{tenant}\x00{name}".encode(), digest_size=8, person=b"fs-compact").digest()
    return int.from_bytes(digest, "big", signed=True)


class SqlStore(ConflictTable, DeviceTable, ScopeQueries, ListingQueries, Store):
    """The store on SQLite (``sqlite+aiosqlite://``) or Postgres (``postgresql+asyncpg://``)."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 10) -> None:
        try:
            self._url: URL = make_url(url)
        except ArgumentError as exc:
            raise ConfigError(f"invalid database URL: {exc}") from exc
        backend = self._url.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise ConfigError(f"unsupported database {backend!r}: use sqlite+aiosqlite or postgresql+asyncpg")
        if sqlite_synchronous.upper() not in _SQLITE_SYNCHRONOUS:
            raise ConfigError(f"sqlite_synchronous must be one of {sorted(_SQLITE_SYNCHRONOUS)}")
        if pool_size < 1:
            raise ConfigError("pool_size must be at least 1")
        self._sqlite = backend == "sqlite"
        self._sqlite_writer = asyncio.Lock()
        self._synchronous = sqlite_synchronous.upper()
        self._pool_size = pool_size
        self._engine: AsyncEngine | None = None

    def __repr__(self) -> str:
        return f"SqlStore({self._url.render_as_string(hide_password=True)!r})"

    async def start(self) -> None:
        if self._engine is not None:
            return
        options: dict[str, Any] = {}
        if self._sqlite:
            if self._url.database not in (None, "", ":memory:"):
                options["pool_size"] = self._pool_size
        else:
            options["pool_size"] = self._pool_size
            options["connect_args"] = {"timeout": _POSTGRES_CONNECT_TIMEOUT}
        try:
            engine = create_async_engine(self._url, **options)
        except (SQLAlchemyError, ImportError) as exc:
            raise StoreError(f"cannot create the database engine: {describe_error(exc)}") from exc
        if self._sqlite:
            _configure_sqlite(engine.sync_engine, self._synchronous)
        self._engine = engine

    async def close(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.dispose()

    async def ping(self) -> None:
        async with self._transaction("ping") as conn:
            await conn.execute(text("SELECT 1"))

    async def load(self, tenant: str, name: str) -> StoredDocument:
        async with self._transaction("load") as conn:
            found = await _load_chunk(conn, tenant, [name])
        return found.get(name) or StoredDocument()

    async def load_many(self, tenant: str, names: Sequence[str]) -> dict[str, StoredDocument]:
        return await self._read_by_name("load_many", tenant, names, _load_chunk, StoredDocument)

    async def _read_by_name(self, action: str, tenant: str, names: Sequence[str], read: Any,
                            empty: Callable[[], T]) -> dict[str, T]:
        """``read(conn, tenant, chunk)`` over ``names`` in chunks, in one transaction; ``empty()`` where none."""
        wanted = list(dict.fromkeys(names))
        found: dict[str, T] = {}
        if wanted:
            async with self._transaction(action) as conn:
                for chunk in _chunks(wanted, _IN_CHUNK):
                    found.update(await read(conn, tenant, chunk))
        return {name: found.get(name) or empty() for name in wanted}

    async def append(self, entries: Sequence[LogEntry]) -> list[LogEntry]:
        if not entries:
            return []
        counts: dict[tuple[str, str], int] = {}
        for entry in entries:
            key = (entry.tenant, entry.name)
            counts[key] = counts.get(key, 0) + 1
        async with self._transaction("append", exclusive=True) as conn:
            heads = await advance_heads(conn, self._insert(document_logs), counts)
            numbered = []
            for entry in entries:
                key = (entry.tenant, entry.name)
                numbered.append(replace(entry, seq=heads[key] - counts[key] + 1))
                counts[key] -= 1
            await conn.execute(
                insert(updates), [{"tenant": e.tenant, "name": e.name, "data": e.update, "seq": e.seq} for e in numbered]
            )
        return numbered

    async def positions(self, tenant: str, names: Sequence[str]) -> dict[str, LogPosition]:
        return await self._read_by_name("positions", tenant, names, read_positions, LogPosition)

    async def compact(self, tenant: str, name: str, *, at_least: int = 1) -> int:
        # On SQLite, BEGIN IMMEDIATE takes the single writer lock before anything is read, so no other
        # compaction can interleave; appends simply wait for it.
        async with self._transaction("compact", exclusive=True) as conn:
            if not self._sqlite:
                key = compaction_lock_key(tenant, name)
                if not await conn.scalar(select(func.pg_try_advisory_xact_lock(key))):
                    return 0
            if at_least > 1:  # read after the lock: a compaction that just ended has moved ``folded``
                position = (await read_positions(conn, tenant, [name])).get(name, LogPosition())
                if position.length < at_least:
                    return 0
            log = (
                await conn.execute(
                    select(updates.c.id, updates.c.seq, updates.c.data)
                    .where(updates.c.tenant == tenant, updates.c.name == name)
                    .order_by(updates.c.id)
                )
            ).all()
            if not log:
                return 0
            snapshot = await conn.scalar(
                select(documents.c.snapshot).where(documents.c.tenant == tenant, documents.c.name == name)
            )
            merged = await _merge(tenant, name, snapshot, [row.data for row in log])
            await conn.execute(self._upsert_document(tenant, name, merged))
            # Delete exactly what was merged: on Postgres a row with a smaller id may commit after this
            # read began, and it must stay in the log.
            for ids in _chunks([row.id for row in log], _IN_CHUNK):
                await conn.execute(delete(updates).where(updates.c.id.in_(ids)))
            # Entries commit in the order of their numbers (appends number them under the head's row lock),
            # so what this read saw is every entry up to the largest number it saw.
            through = max(row.seq for row in log)
            await conn.execute(
                update(document_logs)
                .where(document_logs.c.tenant == tenant, document_logs.c.name == name, document_logs.c.folded < through)
                .values(folded=through)
            )
        return len(log)

    async def log_length(self, tenant: str, name: str) -> int:
        async with self._transaction("log_length") as conn:
            count = await conn.scalar(
                select(func.count())
                .select_from(updates)
                .where(updates.c.tenant == tenant, updates.c.name == name)
            )
        return int(count or 0)

    async def save_projections(self, rows: Sequence[Projection]) -> None:
        if not rows:
            return
        latest: dict[tuple[str, str], Projection] = {}
        for row in rows:
            _require_aware(row.updated_at, "Projection.updated_at")
            latest[(row.tenant, row.name)] = row
        by_tenant: dict[str, list[dict[str, Any]]] = {}
        for row in latest.values():
            value = {field: getattr(row, field) for field in _PROJECTION_COLUMNS}
            by_tenant.setdefault(row.tenant, []).append(value | derived_columns(row.type, row.body))
        stmt = self._insert(projections)
        stmt = stmt.on_conflict_do_update(
            index_elements=[projections.c.tenant, projections.c.name],
            set_={field: stmt.excluded[field] for field in (*_PROJECTION_FIELDS, *DERIVED_COLUMNS, "seq")},
        )
        async with self._transaction("save_projections", exclusive=True) as conn:
            # Counters first, in a fixed order: two nodes saving for the same tenants never wait on each other
            # in a cycle, and each counter's lock is held until the rows it numbered are committed.
            for tenant in sorted(by_tenant):
                values = by_tenant[tenant]
                last = await self._number(conn, tenant, len(values))
                for seq, value in enumerate(values, start=last - len(values) + 1):
                    value["seq"] = seq
            await conn.execute(stmt, [value for values in by_tenant.values() for value in values])

    async def get_projection(self, tenant: str, name: str) -> Projection | None:
        query = select(projections).where(projections.c.tenant == tenant, projections.c.name == name)
        async with self._transaction("get_projection") as conn:
            row = (await conn.execute(query)).first()
        return _projection(row) if row is not None else None

    async def query_projections(
        self,
        tenant: str,
        *,
        type: str | None = None,
        status: str | None = None,
        assignee: str | None = None,
        updated_since: datetime | None = None,
        limit: int = 1000,
    ) -> list[Projection]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        query = select(projections).where(projections.c.tenant == tenant)
        if type is not None:
            query = query.where(projections.c.type == type)
        if status is not None:
            query = query.where(projections.c.status == status)
        if assignee is not None:
            query = query.where(projections.c.assignee == assignee)
        if updated_since is not None:
            _require_aware(updated_since, "updated_since")
            query = query.where(projections.c.updated_at >= updated_since)
        query = query.order_by(projections.c.updated_at, projections.c.name).limit(limit)
        async with self._transaction("query_projections") as conn:
            result = await conn.execute(query)
            return [_projection(row) for row in result]

    @asynccontextmanager
    async def _transaction(self, action: str, *, exclusive: bool = False) -> AsyncIterator[AsyncConnection]:
        """One unit of work: a connection and a transaction, with driver errors turned into ``StoreError``.

        ``exclusive`` marks a writing transaction. On SQLite those queue on one lock of this process and begin
        IMMEDIATE: SQLite has one writer anyway, and two of our own connections contending for it would meet
        in SQLite's busy handler, which sleeps in steps of up to 100 ms (acks waited behind projection writes).
        """
        if self._engine is None:
            raise StoreError(f"{action}: the store is not started")
        started = time.perf_counter()
        async with self._sqlite_writer if exclusive and self._sqlite else contextlib.nullcontext():
            try:
                async with self._engine.connect() as conn:
                    if exclusive and self._sqlite:
                        await conn.execution_options(**{_SQLITE_BEGIN: "BEGIN IMMEDIATE"})
                    async with conn.begin():
                        yield conn
            except _DRIVER_ERRORS as exc:
                raise StoreError(f"{action} failed: {describe_error(exc)}") from exc
            finally:
                if self.on_query is not None:
                    self.on_query(action, time.perf_counter() - started)

    def _insert(self, table: Any) -> Any:
        """The dialect's INSERT, which has ``on_conflict_do_update`` on both engines."""
        return sqlite_insert(table) if self._sqlite else pg_insert(table)

    def _upsert_document(self, tenant: str, name: str, snapshot: bytes) -> Any:
        stmt = self._insert(documents).values(
            tenant=tenant, name=name, snapshot=snapshot, state_vector=get_state(snapshot),
            snapshot_updated_at=datetime.now(UTC),
        )
        return stmt.on_conflict_do_update(
            index_elements=[documents.c.tenant, documents.c.name],
            set_={field: stmt.excluded[field] for field in ("snapshot", "state_vector", "snapshot_updated_at")},
        )


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    """Per-connection SQLite settings, and transactions that really begin at BEGIN."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver would only BEGIN before DML; take over so that reads share the transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")  # first: what follows may wait
            # WAL stays set in the file: setting it again needs a lock that a busy database refuses at once
            # (no busy wait), so a connection opened while others write only sets it when it is not set yet
            cursor.execute("PRAGMA journal_mode")
            if str(cursor.fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            # FULL syncs the WAL at every commit: an acknowledged update survives a crash of the machine.
            cursor.execute(f"PRAGMA synchronous={synchronous}")
        finally:
            cursor.close()

    def on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get(_SQLITE_BEGIN, "BEGIN"))

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)


async def _load_chunk(conn: AsyncConnection, tenant: str, names: Sequence[str]) -> dict[str, StoredDocument]:
    """Snapshots and logs of ``names`` in ONE statement, so a compaction committing meanwhile is seen
    either entirely or not at all (a snapshot read before it and a log read after would lose entries).

    The log positions are read first: the state read after them holds at least every entry up to them.
    """
    position = await read_positions(conn, tenant, names)
    snapshots = select(
        literal_column("0").label("part"),
        documents.c.name,
        documents.c.snapshot.label("data"),
        literal_column("0").label("id"),
    ).where(documents.c.tenant == tenant, documents.c.name.in_(names))
    log = select(
        literal_column("1"), updates.c.name, updates.c.data, updates.c.id
    ).where(updates.c.tenant == tenant, updates.c.name.in_(names))
    result = await conn.execute(union_all(snapshots, log).order_by(text("part"), text("id")))
    snapshot_of: dict[str, bytes] = {}
    log_of: dict[str, list[bytes]] = {}
    for part, name, data, _id in result:
        if part == 0:
            snapshot_of[name] = data
        else:
            log_of.setdefault(name, []).append(data)
    return {
        name: StoredDocument(
            snapshot=snapshot_of.get(name), updates=log_of.get(name, []),
            head=position.get(name, LogPosition()).head, folded=position.get(name, LogPosition()).folded,
        )
        for name in snapshot_of.keys() | log_of.keys()
    }


async def _merge(tenant: str, name: str, snapshot: bytes | None, log: list[bytes]) -> bytes:
    merged = b""
    folded = [] if snapshot is None else [snapshot]
    try:
        for chunk in _chunks(log, _MERGE_CHUNK):
            merged = merge_updates(*folded, *chunk)
            folded = [merged]
            await asyncio.sleep(0)
    except ValueError as exc:
        raise StoreError(f"compact: the stored updates of {name!r} in {tenant!r} do not merge") from exc
    return merged


def _projection(row: Row[Any]) -> Projection:
    return Projection(**{field: row._mapping[field] for field in _PROJECTION_COLUMNS})


def _require_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware")


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def describe_error(exc: BaseException) -> str:
    """The driver's own error in one short line (never the statement or its parameters)."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0][:200]}" if lines else type(cause).__name__
