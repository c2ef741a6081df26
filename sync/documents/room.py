"""One loaded document: its pycrdt Doc, its local subscribers and their awareness."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from pycrdt import Doc, get_state, get_update, merge_updates

from sync.documents.awareness import AwarenessBudget, AwarenessOutcome, AwarenessRegistry
from sync.documents.position import Position
from sync.documents.shared_state import SharedState
from sync.protocol.codes import ErrorCode
from sync.errors import ProtocolError
from sync.protocol import EMPTY_UPDATE, Awareness, Sender, Sync, SyncStep, decode_state_vector, encode_frame, encode_sync_update
from sync.protocol.awareness import AwarenessEntry, encode_awareness_update
from sync.protocol.lib0 import Reader

if TYPE_CHECKING:
    from sync.store import StoredDocument
    from sync.documents.watch import RecordWatch


class Subscriber(Sender, Protocol):
    """A connection subscribed to a room: it sends, and checks its access again when the record's fields move."""

    def recheck(self, room: Room) -> None: ...


class Room:
    """A document held in memory while it has subscribers (and a while after)."""

    def __init__(self, tenant: str, name: str) -> None:
        self.tenant = tenant
        self.name = name
        self.doc: Doc = Doc()
        self.subscribers: dict[Subscriber, None] = {}
        self.awareness = AwarenessRegistry()
        #: Where the room stands in the document's log (``sync.documents.position``).
        self.position = Position()
        #: Bytes the store holds for the document (snapshot and log since): what the size limit is about.
        self.stored_bytes = 0
        #: The whole document encoded once per version, shared by every step 1 that needs it all.
        self.shared = SharedState(self.doc, observe=False)
        self.pending_writes = 0
        self.compacting = False
        self.idle_since = time.monotonic()
        #: The values of the fields the access rules read, as last seen (``sync.gate``).
        self.access_key: tuple[object, ...] | None = None
        #: The record fields the access rules read, worked out on first use (``sync.gate``).
        self.access_fields: tuple[str, ...] | None = None
        #: Set by the hub for record documents: what each client update changes (``sync.documents.watch``).
        self.watch: RecordWatch | None = None
        #: Merged updates not yet relayed, in order, with the subscriber each came from (``relay``).
        self._relayed: list[tuple[bytes, Sender | None]] = []
        #: Called with the awareness entries a local client changed (the hub raises ``awareness_changed``).
        self.on_awareness: Callable[[list[AwarenessEntry]], None] | None = None
        # What the last transaction changed, as an update: only that is relayed, so an update that brings
        # nothing new (a retry, or one that came both through the bus and from the store) is never sent again.
        self._changes: list[bytes] = []
        self.doc.observe(self._observed)

    def _observed(self, event: Any) -> None:
        self._changes.append(event.update)
        self.shared.changed()

    def load(self, stored: StoredDocument) -> list[bytes]:
        """Build the doc from the stored snapshot and log; returns the stored updates that failed to apply."""
        bad = _apply_stored(self.doc, stored)
        self._changes.clear()
        self.position.read(stored.head, stored.folded)
        self.stored_bytes = len(stored.snapshot or b"") + sum(len(update) for update in stored.updates)
        return bad

    def catch_up(self, stored: StoredDocument) -> bool:
        """Merge what the store holds that this room lacks, and relay it; True when something was missing."""
        probe = Doc()
        _apply_stored(probe, stored)
        # the difference to a complete state has no gap: no need to check it like a single update
        changed = self._merge(probe.get_update(self.doc.get_state()), None)
        self.position.read(stored.head, stored.folded)
        return changed

    @property
    def log_length(self) -> int:
        """Entries of the document's log beyond its snapshot, counting every node's commits."""
        return self.position.length

    # -- subscribers -------------------------------------------------------------------------------

    def join(self, subscriber: Subscriber) -> None:
        self.subscribers[subscriber] = None

    def leave(self, subscriber: Sender) -> None:
        """Remove ``subscriber`` and tell the others its awareness clients are gone."""
        if self.subscribers.pop(subscriber, 0) is None:
            removals = self.awareness.remove_owner(subscriber)
            if removals:
                self.broadcast(self.awareness_frame(removals))
                if self.on_awareness is not None:
                    self.on_awareness(removals)
            if not self.subscribers:
                self.idle_since = time.monotonic()

    def broadcast(self, frame: bytes, *, exclude: Sender | None = None) -> None:
        """Send one encoded frame to every subscriber except ``exclude`` (the frame is encoded once).

        Updates waiting to be relayed go first, so subscribers see the room's frames in the order they happened.
        """
        if self._relayed:
            self.flush_relayed()
        for subscriber in self.subscribers:
            if subscriber is not exclude:
                subscriber.send(frame)

    def relay(self, update: bytes, *, exclude: Sender | None = None) -> None:
        """Send a merged update to every subscriber except ``exclude``, at the end of the current loop tick.

        The updates relayed within one tick (a writer's burst read from one socket buffer) go out as one
        merged update per run of the same origin: one frame per subscriber instead of one per update.
        Merging changes nothing a client can see: a merged update is exactly the sum of its parts.
        """
        if not self.subscribers:
            return
        if not self._relayed:
            asyncio.get_running_loop().call_soon(self.flush_relayed)
        self._relayed.append((update, exclude))

    def flush_relayed(self) -> None:
        """Send what ``relay`` holds now (called at the end of the tick, or before any other broadcast)."""
        pending, self._relayed = self._relayed, []
        start = 0
        while start < len(pending):
            origin = pending[start][1]
            end = start + 1
            while end < len(pending) and pending[end][1] is origin:
                end += 1
            frames = _relay_frames(self.name, [update for update, _ in pending[start:end]])
            for subscriber in self.subscribers:
                if subscriber is not origin:
                    for frame in frames:
                        subscriber.send(frame)
            start = end

    # -- document ----------------------------------------------------------------------------------

    def apply_update(self, update: bytes, origin: Sender | None) -> None:
        """Merge ``update`` from subscriber ``origin`` and relay what it changed to the other subscribers.

        Raises ProtocolError when it is malformed or depends on changes this document has not seen: the
        sender keeps it and sends it again after the earlier ones (or resyncs by state vector). An update
        with a gap is never merged, because the pycrdt (Yrs) version in use can drop a pending update
        when a second one is stacked on it before the gap is filled.
        """
        if not self._integrable(update):
            raise ProtocolError(ErrorCode.MISSING_DEPENDENCIES, "update depends on changes the hub has not received")
        self._merge(update, origin)

    def absorb(self, update: bytes) -> bool:
        """Merge an update that another node committed (or the store holds), and relay what it changed to
        every subscriber; True when it changed something. Raises ProtocolError as ``apply_update`` does.
        """
        if not self._integrable(update):
            raise ProtocolError(ErrorCode.MISSING_DEPENDENCIES, "update depends on changes this node has not received")
        return self._merge(update, None)

    def _merge(self, update: bytes, origin: Sender | None) -> bool:
        self._changes.clear()
        try:
            self.doc.apply_update(update)
        except ValueError as exc:
            self._changes.clear()
            raise ProtocolError(ErrorCode.INVALID_UPDATE, f"update does not decode: {exc}") from None
        changes, self._changes = self._changes, []
        for change in changes:
            self.relay(change, exclude=origin)
        return bool(changes)

    def _integrable(self, update: bytes) -> bool:
        """True when every struct of ``update`` continues what the document has (no gap in any client).

        A v1 update starts with its client count; for one client (what an editing replica sends) the next
        varints are the struct count, the client id and its first clock, so the check costs nothing. An
        update of several clients (a step 2, built against our state vector, so normally gap-free) is tried
        on a copy of the document.
        """
        reader = Reader(update, error_code=ErrorCode.INVALID_UPDATE)
        try:
            clients = reader.read_var_uint()
            if clients == 0:
                return True
            if clients == 1:
                reader.read_var_uint()
                client, clock = reader.read_var_uint(), reader.read_var_uint()
                if clock <= decode_state_vector(self.doc.get_state()).get(client, 0):
                    return True
                get_state(update)  # a gap, or garbage that merely starts like an update: decoding tells
                return False
            probe = Doc()
            probe.apply_update(self.doc.get_update())
            probe.apply_update(update)
            return _leftover_clients(update, probe) == 0
        except (ProtocolError, ValueError):
            raise ProtocolError(ErrorCode.INVALID_UPDATE, "update does not decode") from None

    def answer_step1(self, state_vector: bytes) -> tuple[bytes, bytes]:
        """The replies to a client's SyncStep1: step 2 (what it lacks), then our own step 1.

        A client that lacks much of the document gets the one encoded copy of the whole of it that every such
        request shares (``SharedState``), so many requests for a large document hold it once, not once each.
        """
        step2 = self.shared.step2(self.name, state_vector)
        return step2, encode_frame(Sync(self.name, SyncStep.STEP1, self.doc.get_state()))

    def contains(self, update: bytes) -> bool:
        """True when ``update`` brings nothing new (what a readonly client may still be acknowledged for).

        Tried on a copy: nothing new means no change was integrated and nothing was left pending.
        """
        if update == EMPTY_UPDATE:
            return True
        probe = Doc()
        probe.apply_update(self.doc.get_update())
        changed: list[bool] = []
        probe.observe(lambda _: changed.append(True))
        try:
            probe.apply_update(update)
            return not changed and _leftover_clients(update, probe) == 0
        except (ValueError, ProtocolError):
            return False

    def update_awareness(
        self, entries: list[AwarenessEntry], owner: Hashable, *, budget: AwarenessBudget | None = None,
        local: bool = True,
    ) -> AwarenessOutcome:
        """Apply awareness entries of ``owner`` (within ``budget``) and relay what changed to the other
        subscribers; entries of a local client (``local``) also go to ``on_awareness``, for the other nodes."""
        outcome = self.awareness.apply(entries, owner, budget)
        if outcome.accepted:
            self.broadcast(self.awareness_frame(outcome.accepted), exclude=owner)  # type: ignore[arg-type]
            if local and self.on_awareness is not None:
                self.on_awareness(outcome.accepted)
        return outcome

    def awareness_frame(self, entries: Iterable[AwarenessEntry]) -> bytes:
        return encode_frame(Awareness(self.name, encode_awareness_update(list(entries))))

    @property
    def idle(self) -> bool:
        return not self.subscribers and self.pending_writes == 0 and not self.compacting


def _apply_stored(doc: Doc, stored: StoredDocument) -> list[bytes]:
    """Apply a stored snapshot and log to ``doc``; returns the updates that failed to apply."""
    bad: list[bytes] = []
    for update in ([stored.snapshot] if stored.snapshot else []) + stored.updates:
        try:
            doc.apply_update(update)
        except ValueError:
            bad.append(update)
    return bad


def _relay_frames(name: str, updates: list[bytes]) -> list[bytes]:
    """One frame of the merged ``updates`` (each applied, so they merge); one per update should merging fail."""
    if len(updates) > 1:
        try:
            return [encode_sync_update(name, merge_updates(*updates))]
        except ValueError:
            pass
    return [encode_sync_update(name, update) for update in updates]


def _leftover_clients(update: bytes, doc: Doc) -> int:
    """Clients with structs of ``update`` that ``doc`` did not integrate (they wait for missing ones)."""
    return Reader(get_update(update, doc.get_state())).read_var_uint()
