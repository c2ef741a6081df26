"""Raw-protocol devices for cluster tests: write through any node, reconnect, re-send what was not acked.

A ``WritingDevice`` keeps one pycrdt document per record (its replica) and sets one new field per write.
An edit lives in the document at once, so whatever the hub did not acknowledge reaches it again with the
step 2 of the next (re)connection, as a device's outbox would; a refused write (``store_unavailable``) is
re-sent after the notice's ``retry_after``. Only writes answered ``SyncStatus(true)`` count as acknowledged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

import websockets
from pycrdt import Doc, Map

from tests.support.client import Denied, HubClient

#: Errors that mean "this connection is gone": reconnect.
GONE = (websockets.ConnectionClosed, OSError, TimeoutError, Denied, asyncio.IncompleteReadError,
        websockets.InvalidHandshake)


class WritingDevice:
    """One device writing ``field = n`` (n = 0, 1, ...) to its records in turn, through ``url()``."""

    def __init__(self, device: str, names: Sequence[str], token: str, url: Callable[[], str]) -> None:
        self.device = device
        self.names = list(names)
        self.token = token
        self.url = url
        self.docs = {name: Doc() for name in self.names}
        self.acked: list[tuple[str, str]] = []
        self.refusals: list[str] = []
        self.retry_afters: list[float | None] = []
        self.connections = 0
        self.written = 0
        #: The last connection (its frames are what the device received on it).
        self.client: HubClient | None = None

    async def write(self, count: int | None = None, *, until: asyncio.Event | None = None, pace: float = 0.0,
                    deadline: float = 120.0, stay: asyncio.Event | None = None) -> None:
        """Make ``count`` writes (or write until ``until`` is set), reconnecting as needed, within ``deadline`` s;
        then stay connected (receiving the others' updates) until ``stay`` is set."""
        ends = time.monotonic() + deadline

        def more() -> bool:
            wanted = self.written < count if count is not None else until is not None and not until.is_set()
            return wanted and time.monotonic() < ends

        while time.monotonic() < ends:
            try:
                async with HubClient.connect(self.url(), open_timeout=5) as client:
                    self.connections += 1
                    for name in self.names:
                        await client.open(name, self.token, doc=self.docs[name], timeout=10)
                    while more():
                        await self._one(client, self.names[self.written % len(self.names)])
                        if pace:
                            await asyncio.sleep(pace)
                    self.client = client
                    if stay is not None:
                        await stay.wait()
                    break
            except GONE:
                await asyncio.sleep(0.2)
        assert count is None or self.written >= count, f"{self.device} wrote {self.written} of {count} in {deadline} s"
        assert self.client is not None, f"{self.device} could not finish within {deadline} s"

    async def _one(self, client: HubClient, name: str) -> None:
        key = f"{self.device}-{self.written}"
        self.written += 1
        if await client.set_fields(name, {key: self.written}, timeout=10):
            self.acked.append((name, key))
            return
        notices = client.notices[name]
        code = notices[-1].code if notices else "?"
        self.refusals.append(code)
        self.retry_afters.append(notices[-1].retry_after if notices else None)
        # re-send the whole replica until it is stored (retry_after apart); then this write is acknowledged
        while True:
            await asyncio.sleep(notices[-1].retry_after or 0.5 if notices else 0.5)
            if await client.send_update(name, self.docs[name].get_update(), timeout=10):
                self.acked.append((name, key))
                return

    def record(self, name: str) -> dict[str, object]:
        return self.docs[name].get("record", type=Map).to_py()
