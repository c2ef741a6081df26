"""What the admin API reports that the hub does not keep itself: last writes, last activity, refusals by code.

An extension: ``update_committed`` stamps each committed document with the time (one dictionary write per
entry), ``refusal_sent`` counts per tenant and code, ``document_unloaded`` forgets the room. A socket's last
activity is sampled every second by ``run`` (a socket counts no clock per frame): the time its count of
received frames was last seen to move.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sync.hooks import Document, Extension
from sync.store import LogEntry

__all__ = ["SAMPLE_SECONDS", "Activity"]

SAMPLE_SECONDS = 1.0


class Activity(Extension):
    name = "admin-activity"

    def __init__(self, sessions: Callable[[], Iterable[Any]], *, interval: float = SAMPLE_SECONDS) -> None:
        self._sessions = sessions
        self._interval = interval
        self.last_write: dict[tuple[str, str], float] = {}
        self.refusals: dict[str, Counter[str]] = {}
        self._received: dict[Any, tuple[int, float]] = {}  # socket -> (frames received, when that count was seen)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            self.sample()

    def sample(self) -> None:
        """Note the sockets whose received frames moved since the last sample."""
        now = time.time()
        for session in list(self._sessions()):
            count = session.outlet.traffic.received_frames
            seen = self._received.get(session)
            if seen is None or seen[0] != count:
                self._received[session] = (count, now)

    def last_activity(self, session: Any) -> float:
        """When the socket last received a frame, to within the sampling interval."""
        seen = self._received.get(session)
        return seen[1] if seen is not None else session.outlet.traffic.opened

    def connection_closed(self, connection: Any) -> None:
        self._received.pop(connection, None)

    def update_committed(self, entries: Sequence[LogEntry]) -> None:
        now = time.time()
        last_write = self.last_write
        for entry in entries:
            last_write[(entry.tenant, entry.name)] = now

    def document_unloaded(self, room: Document) -> None:
        self.last_write.pop((room.tenant, room.name), None)

    def refusal_sent(self, connection: Any, name: str, code: str) -> None:
        principal = connection.principal
        tenant = principal.tenant if principal is not None else ""
        counts = self.refusals.get(tenant)
        if counts is None:
            counts = self.refusals[tenant] = Counter()
        counts[code] += 1
