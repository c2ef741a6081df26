"""Idle: many connections, each on its own small document, doing nothing; the server's memory per connection.

Each connection opens its own document, writes one small record into it (three fields) and waits until the
server has taken it (the hub: its SyncStatus; pycrdt-websocket: the update echoed back to its sender, which
that server does; the relay: nothing to wait for). One second later the server's RSS (``VmRSS`` of
``/proc/<pid>/status``) is compared with its RSS just before the connections were made:
(after - before) / connections.

A few warm-up connections are made first and kept open, so that what a server allocates once, on its first
connections (imports, caches, pools), is in the "before" figure rather than spread over the connections.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from bench.clients import Opened, close_all, open_many
from bench.servers import Server, Target
from bench.updates import CLIENT_BASE, small_record
from bench.wire import STATUS, UPDATE, hp_update, parse_hocuspocus, parse_ywebsocket, yw_update
from bench.workers import WorkerContext, run_workers

SETTLE_SECONDS = 1.0
WARMUP_CONNECTIONS = 10


@dataclass(frozen=True)
class IdleParams:
    connections: int = 2000
    timeout: float = 300.0


@dataclass(frozen=True)
class IdleShard:
    target: Target
    params: IdleParams
    indices: list[int]
    run: int


async def _write_one(target: Target, opened: Opened, update: bytes) -> None:
    socket = opened.socket
    if target.dialect == "hocuspocus":
        await socket.send(hp_update(opened.document, update))
        while parse_hocuspocus(await socket.recv()).kind != STATUS:
            pass
    else:
        await socket.send(yw_update(update))
        if target.sync:
            while parse_ywebsocket(await socket.recv()).kind != UPDATE:
                pass


async def _open_and_write(target: Target, names: list[tuple[str, str]], updates: list[bytes],
                          timeout: float) -> list[Opened]:
    opened = await open_many(target, names, concurrency=100)
    gate = asyncio.Semaphore(200)

    async def write(o: Opened, update: bytes) -> None:
        async with gate:
            await _write_one(target, o, update)

    try:
        await asyncio.wait_for(asyncio.gather(*(write(o, u) for o, u in zip(opened, updates))), timeout)
    except BaseException:
        await close_all(opened)
        raise
    return opened


async def idle_job(ctx: WorkerContext, shard: IdleShard) -> None:
    target, run = shard.target, shard.run
    updates = [small_record(CLIENT_BASE + i) for i in shard.indices]
    requests = [(f"work_order:ID-{run}-{i:05d}", f"id{run}-{i}") for i in shard.indices]
    warmup = [(f"work_order:IW-{run}-{ctx.index}-{k}", f"iw{run}-{ctx.index}-{k}") for k in range(WARMUP_CONNECTIONS)]
    kept = await _open_and_write(target, warmup, [small_record(k) for k in range(WARMUP_CONNECTIONS)],
                                 shard.params.timeout)
    opened: list[Opened] = []
    try:
        await asyncio.sleep(0.5)
        await ctx.ready()
        opened = await _open_and_write(target, requests, updates, shard.params.timeout)
        await ctx.finished({"connections": len(opened)})
    finally:
        await close_all(opened + kept)


def measure(server: Server, params: IdleParams, *, procs: int, run: int) -> dict[str, float | None]:
    """One run against ``server``, started fresh for it."""
    procs = max(1, min(procs, params.connections))
    shards = [IdleShard(server.target, params, list(range(p, params.connections, procs)), run) for p in range(procs)]
    probe: dict[str, float] = {}

    def ready() -> None:
        probe["before"] = server.rss()

    def finished(_: list[dict[str, Any]]) -> None:
        time.sleep(SETTLE_SECONDS)
        probe["after"] = server.rss()

    results: list[dict[str, Any]] = run_workers(idle_job, shards, prepare_timeout=params.timeout,
                                                run_timeout=params.timeout + 60, on_ready=ready, on_finished=finished)
    connections = sum(r["connections"] for r in results)
    before = probe["before"]
    return {
        "connections": connections,
        "rss_before_mb": before / 2**20,
        "rss_after_mb": probe["after"] / 2**20,
        "kb_per_connection": (probe["after"] - before) / connections / 1024,
    }
