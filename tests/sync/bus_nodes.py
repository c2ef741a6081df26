"""Several hubs in the test's event loop on one SQLite file and one bus, each with in-memory sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from server.auth import JwtVerifier
from sync.bus import Bus
from sync.config import HubConfig
from sync.hub import Hub
from sync.store import SqlStore
from tests.support.inproc import OPEN_ACCESS, SECRET, migrated_sqlite


@asynccontextmanager
async def nodes(tmp_path: Path, count: int, bus: Callable[[], Bus], **config: object) -> AsyncIterator[list[Hub]]:
    """``count`` running hubs sharing one database; ``bus()`` gives each its bus."""
    url = await migrated_sqlite(tmp_path / "hub.db")
    async with AsyncExitStack() as stack:
        hubs = []
        for _ in range(count):
            store = SqlStore(url)
            await store.start()
            stack.push_async_callback(store.close)
            hub = Hub(store, JwtVerifier(secret=SECRET), bus=bus(), config=HubConfig(**config),  # type: ignore[arg-type]
                      access=OPEN_ACCESS)
            await stack.enter_async_context(hub.running())
            hubs.append(hub)
        yield hubs
