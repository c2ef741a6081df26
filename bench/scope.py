"""Scope sync (the hub only): a device's first sync of a 1,000-record scope, and its resync after 1% changed.

Untimed setup: ``records`` open work orders assigned to one technician are written straight into the hub's
store (``tests.support.seed``), as if other devices had synced them.

Timed, with the device SDK (``client_sdk``), as a field device does it:
- first sync: a device with an empty replica follows ``my_work_orders`` and runs until every member is in
  its replica and synced (``SyncClient.wait_synced``); time from ``start`` and bytes over the socket.
- resync: the device goes offline; a supervisor's device changes ``changed_pct`` % of the records (one
  field each); the device reconnects with its membership version and runs until synced again.
- resync unchanged: the same with nothing changed (only state vectors need to travel).

Bytes are the device's WebSocket payload bytes both ways (``SyncClient.traffic``).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.servers import TENANT, Server
from client_sdk import LocalReplica, Records, SyncClient, SyncConfig
from server.auth import mint_token
from tests.support.seed import seed_records
from sync.store import SqlStore

SCOPE = "my_work_orders"
TECHNICIAN = "tech-bench"


@dataclass(frozen=True)
class ScopeParams:
    records: int = 1000
    changed_pct: float = 1.0
    timeout: float = 300.0


def measure(server: Server, params: ScopeParams, *, run: int) -> dict[str, Any]:
    return asyncio.run(_measure(server, params, run))


async def _measure(server: Server, params: ScopeParams, run: int) -> dict[str, Any]:
    assert server.database_url is not None and server.target.secret is not None
    names = [f"work_order:WO-{run}-{i:05d}" for i in range(params.records)]
    store = SqlStore(server.database_url)
    await store.start()
    try:
        await seed_records(store, TENANT, {name: {"status": "OPEN", "technician": TECHNICIAN, "title": f"Job {i}"}
                                           for i, name in enumerate(names)})
    finally:
        await store.close()
    url, secret = server.target.base_url, server.target.secret
    config = SyncConfig(backoff_base=0.05, backoff_cap=0.5)
    with tempfile.TemporaryDirectory(prefix="bench-scope-") as tmp:
        replica = await LocalReplica.open(Path(tmp) / "device.db", device="bench-device")
        token = mint_token(secret, sub=TECHNICIAN, tenant=TENANT, device="bench-device", roles=["technician"],
                           ttl_seconds=24 * 3600)
        client = SyncClient(replica, url, token, config=config)
        client.follow(SCOPE)
        first = await _sync(client, params)
        held = len(replica.followed())
        if held != params.records:
            raise RuntimeError(f"the device holds {held} of the scope's {params.records} records")
        await client.stop()
        unchanged = await _sync(client, params)
        await client.stop()
        changed = names[:: max(1, round(100 / params.changed_pct))]
        await _edit_as_supervisor(Path(tmp), url, secret, changed, config)
        resync = await _sync(client, params)
        titles = [(await Records(replica, user=TECHNICIAN, roles=["technician"]).open(n)).body.get("title")
                  for n in changed]
        if titles != ["changed"] * len(changed):
            raise RuntimeError("the resync did not bring every changed record")
        await client.close()
        await replica.close()
    return {
        "first_s": first["s"], "first_kb": first["kb"], "first_kb_down": first["kb_down"],
        "resync_s": resync["s"], "resync_kb": resync["kb"], "resync_kb_down": resync["kb_down"],
        "unchanged_s": unchanged["s"], "unchanged_kb": unchanged["kb"],
        "records": params.records, "changed": len(changed),
    }


async def _sync(client: SyncClient, params: ScopeParams) -> dict[str, float]:
    sent, received = client.traffic.bytes_sent, client.traffic.bytes_received
    began = time.perf_counter()
    client.start()
    await client.wait_synced(params.timeout)
    seconds = time.perf_counter() - began
    down = client.traffic.bytes_received - received
    up = client.traffic.bytes_sent - sent
    return {"s": seconds, "kb": (down + up) / 1024, "kb_down": down / 1024}


async def _edit_as_supervisor(tmp: Path, url: str, secret: str, names: list[str], config: SyncConfig) -> None:
    replica = await LocalReplica.open(tmp / "office.db", device="bench-office")
    token = mint_token(secret, sub="office", tenant=TENANT, device="bench-office", roles=["supervisor"],
                       ttl_seconds=24 * 3600)
    client = SyncClient(replica, url, token, config=config)
    try:
        await replica.follow(*names)
        client.start()
        await client.wait_synced(60)
        records = Records(replica, user="office", roles=["supervisor"])
        for name in names:
            await records.set(name, title="changed")
        await client.wait_synced(60)
    finally:
        await client.close()
        await replica.close()
