"""Catch-up: a fresh client's time from connect to complete initial sync of a long-edited document.

One writer builds the document from ``updates`` small updates (half overwrite one of 20 record fields, half
append to an event list) and waits until the server has applied them all (the hub: every SyncStatus; a
y-websocket server: the answer to a step 1 sent after the last update, since it handles one socket's
messages in order). Then, untimed, the server settles: the hub compacts the log into a snapshot, pycrdt-
websocket's SQLite store finishes its background writes. The writer leaves.

- cold: the document is not in memory. The hub unloads it ``FIELDSYNC_IDLE_UNLOAD_SECONDS`` after its last
  subscriber left (set to 2 s for the benchmark; the workload waits 3.5 s); pycrdt-websocket with its
  store removes the room when its last client leaves. pycrdt-websocket in memory has no cold state.
- warm: the cold client stays connected, and ``warm_samples`` fresh clients connect one after another;
  the run's figure is their median.

The time runs from the start of the TCP connect until the server's step 2 (the whole document) has been
received; applying it is the client's business and the same for every server, so it is not counted, but
it is checked afterwards that it rebuilds the whole document. Bytes are everything the client received
until then.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pycrdt import Doc

from bench.clients import HandshakeError, open_document
from bench.servers import IDLE_UNLOAD_SECONDS, PYCRDT_MEMORY, RELAY, Server, Target
from bench.stored import fieldsync_log_length, wait_files_quiet
from bench.updates import catchup_check, catchup_updates
from bench.wire import STATUS, UPDATE, hp_update, parse_hocuspocus, parse_ywebsocket, yw_step1, yw_update
from bench.workers import WorkerContext, run_workers, sleep_until

UNLOAD_WAIT = IDLE_UNLOAD_SECONDS + 1.5
COMPACTION_THRESHOLD = 500  # the hub's default FIELDSYNC_COMPACTION_THRESHOLD


@dataclass(frozen=True)
class CatchupParams:
    updates: int = 10_000
    warm_samples: int = 5
    timeout: float = 300.0


@dataclass(frozen=True)
class CatchupShard:
    target: Target
    params: CatchupParams
    run: int
    cold: bool
    database_url: str | None = None
    ystore_path: Path | None = None


def applies(target: Target) -> bool:
    return target.label != RELAY  # no state to catch up on


async def _build(shard: CatchupShard, name: str, updates: list[bytes]) -> None:
    target = shard.target
    hocuspocus = target.dialect == "hocuspocus"
    writer = await open_document(target, name, f"cu{shard.run}-writer")
    socket = writer.socket
    try:
        for update in updates:
            await socket.send(hp_update(name, update) if hocuspocus else yw_update(update))
        if hocuspocus:
            statuses = refused = 0
            while statuses < len(updates):
                frame = parse_hocuspocus(await socket.recv())
                if frame.kind == STATUS:
                    statuses += 1
                    refused += not frame.applied
            if refused:
                raise HandshakeError(f"the hub refused {refused} of the catch-up updates")
        else:
            doc = Doc()
            for update in updates:
                doc.apply_update(update)
            await socket.send(yw_step1(doc.get_state()))
            while True:
                frame = parse_ywebsocket(await socket.recv())
                if frame.kind == UPDATE and frame.step == 1:
                    break
        await asyncio.to_thread(_settle, shard, name)
    finally:
        await socket.close()


def _settle(shard: CatchupShard, name: str) -> None:
    if shard.database_url is not None:
        for _ in range(600):
            if fieldsync_log_length(shard.database_url, name) < COMPACTION_THRESHOLD:
                return
            time.sleep(0.2)
    elif shard.ystore_path is not None:
        wait_files_quiet([shard.ystore_path, shard.ystore_path.with_name("ystore.db-journal")])


async def catchup_job(ctx: WorkerContext, shard: CatchupShard) -> None:
    target, params = shard.target, shard.params
    name = f"work_order:CU-{shard.run}"
    updates = catchup_updates(params.updates)
    tokens = ([target.token(f"cu{shard.run}-reader{k}") for k in range(params.warm_samples + 1)]
              if target.dialect == "hocuspocus" else [None] * (params.warm_samples + 1))
    await _build(shard, name, updates)
    if target.dialect == "hocuspocus":
        await asyncio.sleep(UNLOAD_WAIT)
    else:
        await asyncio.sleep(0.5)  # pycrdt-websocket removes the room as the writer's socket ends
    start = await ctx.ready()
    await sleep_until(start)
    result: dict[str, Any] = {"complete": True}
    holder = None
    try:
        if shard.cold:
            holder = await open_document(target, name, "cold", token=tokens[0])
            result.update(cold_s=holder.seconds, cold_bytes=holder.received_bytes)
            result["complete"] &= catchup_check(holder.step2, params.updates)
        warm: list[float] = []
        sizes: list[int] = []
        for k in range(params.warm_samples):
            opened = await open_document(target, name, f"warm{k}", token=tokens[k + 1])
            await opened.socket.close()
            warm.append(opened.seconds)
            sizes.append(opened.received_bytes)
            result["complete"] &= catchup_check(opened.step2, params.updates)
        result.update(warm_s=statistics.median(warm), warm_bytes=statistics.median(sizes))
        await ctx.finished(result)
    finally:
        if holder is not None:
            await holder.socket.close()


def measure(server: Server, params: CatchupParams, *, run: int) -> dict[str, float | None]:
    """One run against ``server``, started fresh for it."""
    cold = server.label != PYCRDT_MEMORY
    shard = CatchupShard(server.target, params, run, cold, server.database_url, server.ystore_path)
    (result,) = run_workers(catchup_job, [shard], prepare_timeout=params.timeout, run_timeout=params.timeout)
    return {
        "cold_ms": result["cold_s"] * 1000 if cold else None,
        "warm_ms": result["warm_s"] * 1000,
        "cold_bytes": result.get("cold_bytes"),
        "warm_bytes": result["warm_bytes"],
        "complete": 1.0 if result["complete"] else 0.0,
    }
