"""Simulated devices for SDK tests: a replica file, a records API and a sync client each."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from client_sdk import LocalReplica, RecordNotFound, Records, SyncClient, SyncConfig, SyncEvent
from tests.support.seed import seed_records
from sync.store import SqlStore
from tests.support.hub import HubProcess

#: Quick reconnects, so tests that restart a hub do not wait for the default 1 s base.
FAST = SyncConfig(backoff_base=0.05, backoff_cap=0.5, connect_timeout=2.0, refusal_retry=0.2)


@dataclass
class Device:
    """One simulated device."""

    name: str
    user: str
    replica: LocalReplica
    records: Records
    client: SyncClient
    events: list[SyncEvent] = field(default_factory=list)

    async def go_offline(self) -> None:
        await self.client.stop()

    async def sync(self, timeout: float = 20) -> None:
        """Come online (if not) and wait until everything is in sync."""
        self.client.start()
        try:
            await self.client.wait_synced(timeout)
        except TimeoutError:
            recent = "\n  ".join(repr(event) for event in self.events[-15:])
            raise AssertionError(f"{self.name} not in sync after {timeout} s: {self.client.status}\n  {recent}") from None


class Devices:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.made: list[Device] = []

    async def make(self, hub: HubProcess | None, name: str, *, user: str | None = None,
                   roles: Sequence[str] = ("technician",), url: str | None = None, config: SyncConfig = FAST,
                   tenant: str = "acme", coalesce_ms: float = 50, token: str | None = None,
                   **client_args: Any) -> Device:
        user = user or f"user-{name}"
        replica = await LocalReplica.open(self.tmp_path / f"{name}.db", device=name, coalesce_ms=coalesce_ms)
        if token is None:
            token = hub.token(sub=user, tenant=tenant, device=name, roles=roles) if hub else "no-token"
        client = SyncClient(replica, url or (hub.ws_url if hub else "ws://127.0.0.1:9/sync"), token, config=config,
                            **client_args)
        device = Device(name, user, replica, Records(replica, user=user, roles=roles), client)
        client.on_event(device.events.append)
        self.made.append(device)
        return device

    async def close(self) -> None:
        for device in self.made:
            await device.client.close()
            await device.replica.close()


async def eventually(check: Callable[[], Any], timeout: float = 10, interval: float = 0.05) -> Any:
    """Poll ``check`` (sync or async) until it returns a truthy value; fail with its last value."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met in {timeout} s (last: {result!r})")
        await asyncio.sleep(interval)


async def holds(device: Device, name: str) -> bool:
    """Whether ``device``'s replica holds record ``name``."""
    try:
        await device.records.open(name)
    except RecordNotFound:
        return False
    return True


async def seed(hub: HubProcess, records: dict[str, dict], tenant: str = "acme") -> None:
    """Write ``records`` straight into the hub's store, as if devices had synced them."""
    store = SqlStore(hub.database_url)
    await store.start()
    try:
        await seed_records(store, tenant, records)
    finally:
        await store.close()
