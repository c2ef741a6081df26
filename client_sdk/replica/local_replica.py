"""The device's local replica: one SQLite file holding documents, outbox, projections and sync metadata.

Every change is one SQLite transaction (WAL, ``synchronous=FULL``): a local edit writes the document state,
its outbox entry and the record's projection together, a remote update writes the state and the projection.
An app killed at any instant therefore finds either the whole edit or none of it. Each table has its own
module in this package (``storage`` opens the file); this one runs the changes across them.

All access is serialised by one lock: the replica is one writer, and the order of its commits is the order
of the edits, which is the order their updates must reach the hub in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import aiosqlite
from pycrdt import Doc, merge_updates

from client_sdk.replica import projections, storage
from client_sdk.replica.documents import DocumentStates
from client_sdk.errors import RecordError, RecordNotFound, ReplicaError
from client_sdk.events import ChangeOrigin, Listeners, OutboxEntry, RecordChange, RecordView, RejectedEntry
from client_sdk.replica.follows import Follows
from client_sdk.names import record_type
from client_sdk.replica.outbox import Outbox
from client_sdk.replica.rejections import Rejections
from client_sdk.replica.scope_following import ScopeFollowing
from client_sdk.replica.scopes import ScopeChange, ScopeTable
from conflict import Hlc, project_document

T = TypeVar("T")

_LOCAL = "local"


class LocalReplica:
    """Documents, outbox and projections of one device, in one SQLite file. Open with ``LocalReplica.open``."""

    def __init__(self, db: aiosqlite.Connection, path: Path, *, device: str, hlc: Hlc, outbox: Outbox,
                 rejections: Rejections, scopes: ScopeTable, follows: Follows, wall_clock: Callable[[], float]) -> None:
        self._db = db
        self.path = path
        self.device = device
        self.hlc = hlc
        """The device's hybrid logical clock; its last time is saved with every local edit."""
        self._outbox = outbox
        self._rejections = rejections
        self.scopes = scopes
        """The followed sync scopes and their members (read it; change it through the methods below)."""
        self._follows = follows
        """Documents followed by name (``follow`` and local edits); scope members are in ``scopes``."""
        self._docs = DocumentStates(db)
        self._wall_clock = wall_clock
        self._lock = asyncio.Lock()
        # a document keeps its local copy while it has edits the hub has not stored or the app has not seen rejected
        self._scope_following = ScopeFollowing(db, self._lock, table=scopes, docs=self._docs, follows=follows,
                                               pending=lambda name: outbox.count(name) + rejections.count(name))
        self.on_change: Listeners[RecordChange] = Listeners()
        """One call per committed change of a record, local or remote."""
        self.on_outbox: Listeners[str] = Listeners()
        """Called with a document name when a local edit went into its outbox (acknowledgements are not events:
        the sync client reports those as ``Acknowledged``)."""
        self.on_follow: Listeners[str] = Listeners()
        """Called with a document name when the device starts following it by name (scope members: ``on_scope``)."""
        self.on_scope: Listeners[ScopeChange] = self._scope_following.on_scope
        """Called once per committed change of a subscription: followed, unfollowed, members updated."""

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        device: str,
        coalesce_ms: float = 50,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> LocalReplica:
        """Open (or create) the replica file of ``device``; a file belongs to one device for life.

        ``coalesce_ms`` is the outbox's coalescing window. ``clock`` (monotonic seconds) times that window;
        ``wall_clock`` (Unix seconds) dates changes and drives the device's HLC.
        """
        path = Path(path)

        async def load(db: aiosqlite.Connection) -> tuple[Outbox, Rejections, ScopeTable, Follows]:
            tables = (Outbox(db, window=coalesce_ms / 1000, clock=clock, wall_clock=wall_clock), Rejections(db),
                      ScopeTable(db), Follows(db))
            for table in tables:
                await table.load()
            return tables

        db, last, (box, rejections, scopes, follows) = await storage.open_file(path, device, load)
        hlc = Hlc(device, lambda: int(wall_clock() * 1000), last=last)
        replica = cls(db, path, device=device, hlc=hlc, outbox=box, rejections=rejections, scopes=scopes,
                      follows=follows, wall_clock=wall_clock)
        await replica._scope_following.sweep_leaving()  # a crash may have come between an acknowledgement and the sweep
        return replica

    async def close(self) -> None:
        async with self._lock:
            await self._db.close()

    async def __aenter__(self) -> LocalReplica:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # -- changes -------------------------------------------------------------------------------------

    async def edit(self, name: str, change: Callable[[Doc], T], *, create: bool = False) -> T:
        """Run ``change`` on document ``name`` and commit the result: state, outbox entry and projection.

        The edit completes even if the caller is cancelled meanwhile, so memory and disk never disagree.
        Raises ``RecordNotFound`` for an unknown document unless ``create``. An exception from ``change``
        discards whatever it did (the document is reloaded from disk).
        """
        return await asyncio.shield(self._edit(name, change, create))

    async def _edit(self, name: str, change: Callable[[Doc], T], create: bool) -> T:
        async with self._lock:
            doc = await self._docs.load(name)
            if doc is None:
                if not create:
                    raise RecordNotFound(name)
                doc = Doc()
            base = doc.get_state()
            updates: list[bytes] = []
            subscription = doc.observe(lambda event: updates.append(event.update))
            try:
                with doc.transaction(origin=_LOCAL):
                    result = change(doc)
            except BaseException:
                self._docs.drop(name)  # it may hold part of the change: the next use reloads from disk
                raise
            finally:
                doc.unobserve(subscription)
            if not updates:
                return result
            update = updates[0] if len(updates) == 1 else merge_updates(*updates)
            fields = project_document(name, doc)
            now = self._wall_clock()
            follows = not self.is_followed(name)
            try:
                async with storage.transaction(self._db) as db:
                    await self._docs.save(name, doc, now)
                    outbox_committed = await self._outbox.add(name, update, base)
                    view = await projections.save(db, fields, now)
                    followed = await self._follows.add([name], now) if follows else None
                    if self.hlc.last is not None:
                        await storage.save_hlc(db, self.hlc.last)
            except BaseException:
                self._docs.drop(name)
                self._outbox.forget_window(name)
                raise
            self._docs.keep(name, doc)
            outbox_committed()
            if followed is not None:
                followed()
        self.on_change.emit(RecordChange(name=name, origin=ChangeOrigin.LOCAL, record=view))
        self.on_outbox.emit(name)
        if follows:
            self.on_follow.emit(name)
        return result

    async def apply_remote(self, name: str, update: bytes) -> RecordView | None:
        """Apply an update received from the hub and commit it; returns the new projection if anything changed."""
        return await asyncio.shield(self._apply_remote(name, update))

    async def _apply_remote(self, name: str, update: bytes) -> RecordView | None:
        async with self._lock:
            doc = await self._docs.load(name) or Doc()
            changed: list[bool] = []
            subscription = doc.observe(lambda _: changed.append(True))
            try:
                doc.apply_update(update)
            except ValueError as exc:
                self._docs.drop(name)
                raise ReplicaError(f"update for {name} does not decode: {exc}") from None
            finally:
                doc.unobserve(subscription)
            if not changed:
                self._docs.keep(name, doc)  # the cached one, or an empty one: nothing to write
                return None
            fields = project_document(name, doc)
            now = self._wall_clock()
            try:
                async with storage.transaction(self._db) as db:
                    await self._docs.save(name, doc, now)
                    view = await projections.save(db, fields, now)
            except BaseException:
                self._docs.drop(name)
                raise
            self._docs.keep(name, doc)
        self.on_change.emit(RecordChange(name=name, origin=ChangeOrigin.REMOTE, record=view))
        return view

    # -- following -----------------------------------------------------------------------------------

    async def follow(self, *names: str) -> None:
        """Keep ``names`` in sync from now on, whatever scopes they are in (records created here are followed).

        ``RecordError`` (and nothing followed) when a name is not ``{type}:{id}`` of a known record type.
        """
        for name in names:
            record_type(name)
        new = [name for name in dict.fromkeys(names) if name not in self._follows]
        if not new:
            return
        async with self._lock:
            started = [name for name in new if not self.is_followed(name)]
            async with storage.transaction(self._db):
                followed = await self._follows.add(new, self._wall_clock())
            followed()
        for name in started:
            self.on_follow.emit(name)

    async def unfollow(self, *names: str) -> None:
        """Stop syncing ``names`` unless a followed scope holds them (local copies stay; edits are still sent)."""
        async with self._lock:
            async with storage.transaction(self._db):
                unfollowed = await self._follows.remove(names)
            unfollowed()

    def followed(self) -> list[str]:
        """Every followed document: by name, or as a member of a followed scope."""
        return sorted(self._follows.names() | self.scopes.names())

    def is_followed(self, name: str) -> bool:
        return name in self._follows or self.scopes.holds(name)

    # -- scopes (``client_sdk.replica.scopes``) ------------------------------------------------------------------

    async def follow_scope(self, scope: str, params: Mapping[str, str] | None = None, *,
                           keep_removed: bool = False) -> str:
        """Follow ``scope`` with ``params`` (from the next connection on); returns the subscription id.

        Following it again with the same params is the same subscription (``keep_removed`` is updated).
        """
        return await self._scope_following.follow(scope, params, keep_removed=keep_removed)

    async def unfollow_scope(self, id: str, *, forget: bool = True) -> ScopeChange | None:
        """Stop following subscription ``id``; ``forget`` deletes the local copies no other follow holds.

        A document with unacknowledged edits is kept until they are stored. ``None`` for an unknown id.
        """
        return await self._scope_following.unfollow(id, forget=forget)

    async def apply_scope_members(self, id: str, version: int, *, members: Iterable[str] | None = None,
                                  added: Iterable[str] = (), removed: Iterable[str] = ()) -> ScopeChange | None:
        """Store what the hub says subscription ``id`` holds at ``version``, in one transaction.

        ``members`` is the whole list (what the device held and is not in it is removed); otherwise ``added``
        and ``removed`` are changes (names the device does not hold are ignored). Documents that leave every
        follow are deleted unless the scope keeps them or they have unacknowledged edits (kept until stored).
        ``None`` when ``id`` is not followed (any more).
        """
        return await self._scope_following.apply_members(id, version, members=members, added=added,
                                                         removed=removed)

    @property
    def loaded(self) -> list[str]:
        """Documents held in memory (loaded on first use)."""
        return self._docs.loaded

    # -- reading -------------------------------------------------------------------------------------

    async def exists(self, name: str) -> bool:
        async with self._lock:
            return await self._docs.load(name) is not None

    async def read(self, name: str, reader: Callable[[Doc], T]) -> T:
        """Run ``reader`` on the live document (it must not change it); ``RecordNotFound`` when unknown."""
        async with self._lock:
            doc = await self._docs.load(name)
            if doc is None:
                raise RecordNotFound(name)
            return reader(doc)

    async def get(self, name: str) -> RecordView | None:
        async with self._lock:
            return await projections.get(self._db, name)

    async def query(self, *, type: str | None = None, status: str | None = None, assignee: str | None = None,
                    updated_since: datetime | None = None, include_deleted: bool = False,
                    limit: int | None = None, scope: str | None = None,
                    scope_params: Mapping[str, str] | None = None) -> list[RecordView]:
        """Local records matching every given filter, oldest change first; works offline.

        ``scope`` keeps the members of a followed scope: every subscription of that scope name (or the one
        subscription id), or with ``scope_params`` the subscription with exactly those params.
        """
        async with self._lock:
            ids = None if scope is None else self.scopes.ids_for(scope, scope_params)
            if ids == []:
                raise RecordError(f"scope {scope!r}{f' with {dict(scope_params)}' if scope_params else ''} "
                                  "is not followed")
            return await projections.query(self._db, type=type, status=status, assignee=assignee,
                                           updated_since=updated_since, include_deleted=include_deleted,
                                           limit=limit, subscriptions=ids)

    async def state_vectors(self, names: Sequence[str]) -> dict[str, bytes]:
        """The state vector of each document; an empty one for documents this replica has never held."""
        async with self._lock:
            return await self._docs.state_vectors(names)

    async def missing_for(self, name: str, state_vector: bytes) -> bytes:
        """What a peer at ``state_vector`` lacks of document ``name`` (a Yjs update)."""
        async with self._lock:
            doc = await self._docs.load(name) or Doc()
            return doc.get_update(state_vector)

    # -- outbox (``outbox``) ---------------------------------------------------------------

    def pending_count(self, name: str | None = None) -> int:
        """Unacknowledged outbox entries (of document ``name``); from memory, no query."""
        return self._outbox.count(name)

    def pending_documents(self) -> list[str]:
        """Documents with unacknowledged outbox entries."""
        return self._outbox.documents()

    def seconds_to_seal(self, name: str) -> float | None:
        """How long until the open outbox entry of ``name`` may be sent; ``0.0`` once, when it just became due."""
        return self._outbox.seconds_to_seal(name)

    async def sendable(self, name: str, after: int = 0, *, force: bool = False) -> list[OutboxEntry]:
        """Sealed outbox entries of ``name`` above id ``after``; ``force`` seals the open one first."""
        async with self._lock:
            return await self._outbox.sealed_entries(name, after, force=force)

    async def first_base(self, name: str) -> bytes | None:
        """The state vector ``name`` had before its oldest unacknowledged edit; ``None`` when it has none."""
        async with self._lock:
            return await self._outbox.first_base(name)

    async def pending(self, name: str | None = None) -> list[OutboxEntry]:
        """Every unacknowledged entry (of ``name``), oldest first."""
        async with self._lock:
            return await self._outbox.entries(name)

    async def acknowledge(self, ids: Iterable[int]) -> list[OutboxEntry]:
        """Remove entries the hub has stored durably; returns them."""
        async with self._lock:
            async with storage.transaction(self._db):
                removed, committed = await self._outbox.remove(ids)
            committed()
        if self.scopes.leaving:
            await self._scope_following.sweep_leaving()
        return removed  # no event: the caller (the sync session) is the one who knows

    # -- rejected writes (``rejections``) --------------------------------------------------------------

    async def reject(self, ids: Iterable[int], code: str, reason: str) -> list[RejectedEntry]:
        """Move outbox entries the hub refused for good (``code``: why it refused the document) to the rejected.

        They are never sent again and stay until the app dismisses them. The local document keeps the edits:
        what the user typed stays on screen, and nothing is undone behind the app's back.
        """
        async with self._lock:
            async with storage.transaction(self._db):
                removed, outbox_committed = await self._outbox.remove(ids)
                kept, kept_committed = await self._rejections.add(removed, code, reason, self._wall_clock())
            outbox_committed()
            kept_committed()
        return kept

    async def rejected(self, name: str | None = None) -> list[RejectedEntry]:
        """The rejected writes kept (of document ``name``), oldest edit first."""
        async with self._lock:
            return await self._rejections.entries(name)

    def rejected_count(self, name: str | None = None) -> int:
        return self._rejections.count(name)

    async def dismiss_rejected(self, ids: Iterable[int]) -> list[RejectedEntry]:
        """Forget rejected writes the app has dealt with; returns them. A document that left its scopes goes too."""
        async with self._lock:
            async with storage.transaction(self._db):
                removed, committed = await self._rejections.remove(ids)
            committed()
        if self.scopes.leaving:
            await self._scope_following.sweep_leaving()
        return removed
