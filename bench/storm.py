"""Reconnect storm (the hub only): devices with offline edits all reconnect at the same instant.

Untimed setup: every device opens its documents on one socket and seeds them (the state the hub had when
the device went offline), then leaves; the workload waits until the hub has unloaded them. Each device
then made ``edits`` offline edits per document.

Timed: every device connects at once and does what the SDK (``client_sdk``) does on reconnect, on one
socket: per document ``Auth`` and its step 1; on the hub's step 1, its outbox (the offline edits, merged
into one update as the SDK batches them) and then an empty step 2 (the hub already has everything the
edits build on). A device is done when, for every document, the hub's step 2 has arrived and both frames
are acknowledged with ``SyncStatus(true)``. The figure is the time until the last device is done.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass

import websockets

from bench.clients import HandshakeError, connect_socket
from bench.servers import IDLE_UNLOAD_SECONDS, Server, ServerUsage, Target
from bench.stats import percentile
from bench.updates import CLIENT_BASE, offline_document
from bench.wire import DENIED, STATUS, STEP1, UPDATE, hp_auth, hp_step1, hp_step2, hp_update, parse_hocuspocus
from bench.workers import WorkerContext, cpu_seconds, run_workers, sleep_until

UNLOAD_WAIT = IDLE_UNLOAD_SECONDS + 1.5
STATUSES_PER_DOCUMENT = 2  # the outbox update and the step 2


@dataclass(frozen=True)
class StormParams:
    devices: int = 500
    documents: int = 10
    edits: int = 3
    timeout: float = 300.0


@dataclass(frozen=True)
class StormShard:
    target: Target
    params: StormParams
    devices: list[int]
    run: int


@dataclass
class _Plan:
    """One device's frames, built before the clock starts."""

    token: str
    opening: list[bytes]  # Auth and step 1 of every document
    answers: dict[str, list[bytes]]  # document -> what to send on the hub's step 1


class DeviceResult:
    __slots__ = ("done", "refused")

    def __init__(self) -> None:
        self.done = 0.0
        self.refused = 0


async def device_session(target: Target, plan: _Plan) -> DeviceResult:
    """Open every document of ``plan`` on one socket; returns when all are synced and acknowledged."""
    result = DeviceResult()
    socket = await connect_socket(target, "")
    try:
        for frame in plan.opening:
            await socket.send(frame)
        waiting = {name: [False, 0] for name in plan.answers}  # hub's step 2 seen, statuses
        while waiting:
            try:
                data = await socket.recv()
            except websockets.ConnectionClosed as exc:
                raise HandshakeError(f"the hub closed a device socket: {exc}") from None
            frame = parse_hocuspocus(data)
            state = waiting.get(frame.document)
            if state is None:
                continue
            if frame.kind == STEP1:
                for answer in plan.answers[frame.document]:
                    await socket.send(answer)
            elif frame.kind == UPDATE and frame.step == 1:
                state[0] = True
            elif frame.kind == STATUS:
                state[1] += 1
                result.refused += not frame.applied
            elif frame.kind == DENIED:
                raise HandshakeError(f"{frame.document}: permission denied")
            if state[0] and state[1] >= STATUSES_PER_DOCUMENT:
                del waiting[frame.document]
        result.done = time.perf_counter()
    finally:
        await socket.close()
    return result


def _plans(shard: StormShard) -> tuple[list[_Plan], list[_Plan]]:
    """(seeding plans, reconnect plans) of this shard's devices."""
    params, target = shard.params, shard.target
    seeding, storm = [], []
    for device in shard.devices:
        token = target.token(f"st{shard.run}-{device}")
        seed_open, seed_answers, open_, answers = [], {}, [], {}
        for j in range(params.documents):
            name = f"work_order:ST-{shard.run}-{device:04d}-{j:02d}"
            doc = offline_document(CLIENT_BASE + device * params.documents + j, params.edits)
            seed_open += [hp_auth(name, token), hp_step1(name)]
            seed_answers[name] = [hp_update(name, doc.seed), hp_step2(name)]
            open_ += [hp_auth(name, token), hp_step1(name, doc.state_vector)]
            answers[name] = [hp_update(name, doc.offline), hp_step2(name)]
        seeding.append(_Plan(token, seed_open, seed_answers))
        storm.append(_Plan(token, open_, answers))
    return seeding, storm


async def storm_job(ctx: WorkerContext, shard: StormShard) -> None:
    seeding, storm = _plans(shard)
    gate = asyncio.Semaphore(50)

    async def seed(plan: _Plan) -> None:
        async with gate:
            await device_session(shard.target, plan)

    await asyncio.wait_for(asyncio.gather(*(seed(plan) for plan in seeding)), shard.params.timeout)
    await asyncio.sleep(UNLOAD_WAIT)
    start = await ctx.ready()
    await sleep_until(start)
    cpu = cpu_seconds()
    tasks = [asyncio.ensure_future(device_session(shard.target, plan)) for plan in storm]
    done, pending = await asyncio.wait(tasks, timeout=shard.params.timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    results = [task.result() for task in done if task.exception() is None]
    errors = [repr(task.exception()) for task in done if task.exception() is not None]
    await ctx.finished({
        "start": start,
        "done": [r.done for r in results],
        "refused": sum(r.refused for r in results),
        "failed": len(pending) + len(errors),
        "errors": errors[:3],
        "generator_cpu": cpu_seconds() - cpu,
    })


def measure(server: Server, params: StormParams, *, procs: int, run: int) -> dict[str, float | None]:
    """One run against a fresh hub."""
    procs = max(1, min(procs, params.devices))
    shards = [StormShard(server.target, params, list(range(p, params.devices, procs)), run) for p in range(procs)]
    usage = ServerUsage(server)
    results = run_workers(storm_job, shards, prepare_timeout=params.timeout + 60, run_timeout=params.timeout + 60,
                          on_started=usage.started, on_finished=usage.finished)
    start = results[0]["start"]
    durations = [t - start for r in results for t in r["done"]]
    failed = sum(r["failed"] for r in results)
    for error in (e for r in results for e in r["errors"]):
        print(f"bench: storm: a device failed: {error}", file=sys.stderr)
    total = max(durations) if durations and not failed else None
    edits = params.devices * params.documents * params.edits
    return {
        "storm_s": total,
        "device_p50_s": percentile(durations, 50),
        "edits_acked_per_s": edits / total if total else None,
        "devices_failed": failed,
        "refused": sum(r["refused"] for r in results),
        "cpu_s": usage.cpu_s,
        "peak_rss_mb": usage.peak_rss_mb,
        "generator_cpu_s": sum(r["generator_cpu"] for r in results),
    }
