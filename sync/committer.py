"""Group commit: updates that arrive while a commit is in flight share the next transaction.

Every submitted update gets a future that resolves only after its transaction committed (invariant 1),
or fails with ``StoreError``. Batches are committed one after another in submission order, so futures
resolve in the order the updates were submitted and acknowledgements keep their order.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence

from sync.errors import StoreError
from sync.store import LogEntry, Store

log = logging.getLogger(__name__)

Committed = Callable[[Sequence[LogEntry]], None]


class Committer:
    """Serialises appends to the store into batched transactions."""

    def __init__(self, store: Store, *, on_committed: Committed, delay_ms: float = 0.0, max_batch: int = 2000) -> None:
        self._store = store
        self._on_committed = on_committed
        self._delay = delay_ms / 1000
        self._max_batch = max_batch
        self._queue: deque[tuple[tuple[LogEntry, ...], asyncio.Future[None]]] = deque()
        self._queued = 0
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._inflight: list[tuple[tuple[LogEntry, ...], asyncio.Future[None]]] = []
        self.batches = 0
        self.committed = 0

    def submit(self, entry: LogEntry, *more: LogEntry) -> asyncio.Future[None]:
        """Queue ``entry`` (and ``more``); the future resolves once they are durably stored.

        Entries submitted together always share one transaction: a client's update and the hub's correction of
        it are stored both or neither, so a crash never leaves the update stored and its correction lost.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(((entry, *more), future))
        self._queued += 1 + len(more)
        self._idle.clear()
        self._wakeup.set()
        return future

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
            left = self._inflight + list(self._queue)
            self._inflight = []
            self._queue.clear()
            self._queued = 0
            for _, future in left:
                if not future.done():
                    future.set_exception(StoreError("hub shut down before commit"))
                    future.exception()
            self._idle.set()

    def _take_batch(self) -> list[tuple[tuple[LogEntry, ...], asyncio.Future[None]]]:
        """Whole submissions, up to ``max_batch`` entries (a larger submission goes alone)."""
        batch: list[tuple[tuple[LogEntry, ...], asyncio.Future[None]]] = []
        size = 0
        while self._queue and (not batch or size + len(self._queue[0][0]) <= self._max_batch):
            group = self._queue.popleft()
            batch.append(group)
            size += len(group[0])
        self._queued -= size
        return batch

    async def _commit_queued(self) -> None:
        batch = self._take_batch()
        if not self._queue:
            self._wakeup.clear()
        if batch:
            entries = [entry for group, _ in batch for entry in group]
            self._inflight = batch
            try:
                await self._store.append(entries)
            except StoreError as exc:
                log.error("commit of %d updates failed: %s", len(entries), exc.reason)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                        future.exception()  # the session reads it; do not warn when a socket left first
            else:
                self.batches += 1
                self.committed += len(entries)
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)
                self._on_committed(entries)
            finally:
                self._inflight = []
        if not self._queue:
            self._idle.set()
