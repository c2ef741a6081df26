"""Group commit: updates that arrive while a commit is in flight share the next transaction.

Every submitted update gets a future that resolves only after its transaction committed (invariant 1),
or fails with ``StoreError``. Batches are committed one after another in submission order, so futures
resolve in the order the updates were submitted and acknowledgements keep their order.

The updates of one batch share one future: a burst of thousands of updates costs one future and one
wake-up of each waiting connection per transaction, not per update.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence

from sync.errors import StoreError
from sync.store import LogEntry, Store

log = logging.getLogger(__name__)

Committed = Callable[[Sequence[LogEntry]], None]


class _Batch:
    """Entries that will share one transaction, and the future they share."""

    __slots__ = ("entries", "future", "opened")

    def __init__(self, future: asyncio.Future[None]) -> None:
        self.entries: list[LogEntry] = []
        self.future = future
        self.opened = time.perf_counter()  # when its first entry arrived: the longest any of them waits


class Committer:
    """Serialises appends to the store into batched transactions."""

    def __init__(self, store: Store, *, on_committed: Committed, delay_ms: float = 0.0, max_batch: int = 2000) -> None:
        self._store = store
        self._on_committed = on_committed
        self._delay = delay_ms / 1000
        self._max_batch = max_batch
        self._queue: deque[_Batch] = deque()
        self._queued = 0
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._inflight: _Batch | None = None
        self.batches = 0
        self.committed = 0
        self.last_batch: tuple[int, float, float] = (0, 0.0, 0.0)
        """The latest committed transaction: its size, how long its first entry waited from submission to
        commit (the longest acknowledgement delay of the batch), and how long the transaction took; set before
        ``on_committed`` runs, so its hooks can read it."""

    def submit(self, entry: LogEntry, *more: LogEntry) -> asyncio.Future[None]:
        """Queue ``entry`` (and ``more``); the future resolves once they are durably stored.

        Entries submitted together always share one transaction: a client's update and the hub's correction of
        it are stored both or neither, so a crash never leaves the update stored and its correction lost. The
        future is shared with the other submissions of the same transaction: wait for it with callbacks or
        through ``asyncio.shield``, since cancelling it would fail them all.
        """
        size = 1 + len(more)
        batch = self._queue[-1] if self._queue else None
        if batch is None or (batch.entries and len(batch.entries) + size > self._max_batch):
            batch = _Batch(asyncio.get_running_loop().create_future())
            self._queue.append(batch)
        batch.entries.append(entry)
        batch.entries.extend(more)
        self._queued += size
        self._idle.clear()
        self._wakeup.set()
        return batch.future

    @property
    def pending(self) -> int:
        """Entries waiting for a transaction."""
        return self._queued

    async def drain(self) -> None:
        """Wait until every update submitted so far has been committed (or failed)."""
        await self._idle.wait()

    async def run(self) -> None:
        """The commit loop; runs until cancelled."""
        try:
            while True:
                await self._wakeup.wait()
                if self._delay and self._queued < self._max_batch:
                    await asyncio.sleep(self._delay)
                await self._commit_queued()
        finally:
            # A batch cut off mid-transaction may or may not be stored: refuse it, the senders keep it in
            # their outboxes and re-send (re-applying an update changes nothing).
            # The hub drains before it stops this loop, so normally nothing is left here.
            left = ([self._inflight] if self._inflight else []) + list(self._queue)
            self._inflight = None
            self._queue.clear()
            self._queued = 0
            for batch in left:
                if not batch.future.done():
                    batch.future.set_exception(StoreError("hub shut down before commit"))
                    batch.future.exception()
            self._idle.set()

    async def _commit_queued(self) -> None:
        batch = self._queue.popleft() if self._queue else None
        if not self._queue:
            self._wakeup.clear()
        if batch is not None:
            entries = batch.entries
            self._queued -= len(entries)
            self._inflight = batch
            started = time.perf_counter()
            try:
                numbered = await self._store.append(entries)
            except StoreError as exc:
                log.error("commit of %d updates failed: %s", len(entries), exc.reason)
                if not batch.future.done():
                    batch.future.set_exception(exc)
                    batch.future.exception()  # the session reads it; do not warn when a socket left first
            else:
                self.batches += 1
                self.committed += len(entries)
                done = time.perf_counter()
                self.last_batch = (len(entries), done - batch.opened, done - started)
                if not batch.future.done():
                    batch.future.set_result(None)
                self._on_committed(numbered)
            finally:
                self._inflight = None
        if not self._queue:
            self._idle.set()
