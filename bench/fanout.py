"""Fan-out: documents with one writer and several subscribers each, on separate connections.

- burst: every writer sends all its updates at once, without waiting for anything;
- paced: the writers together send ``rate`` updates per second for ``seconds``, evenly interleaved.

Each writer's update ``i`` is recorded with its send instant; each subscriber records the instant each
update arrives (recognised by its client id and clock, see ``bench.wire``); each SyncStatus arriving at a
writer acknowledges its next unacknowledged update (statuses come in order). The figures:

- deliveries/s: deliveries / (last receipt - first send), over every process;
- delivery latency p50/p95/p99: receipt - send, over every (update, subscriber);
- acks/s and ack latency p99 (the hub only: the other servers acknowledge nothing).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import websockets

from bench.clients import Opened, close_all, open_many
from bench.servers import Server, ServerUsage, Target
from bench.stats import percentile
from bench.stored import fieldsync_stored, pycrdt_stored, wait_files_quiet
from bench.updates import CLIENT_BASE, field_updates
from bench.wire import STATUS, UPDATE, hp_update, parse_hocuspocus, parse_ywebsocket, yw_update
from bench.workers import WorkerContext, cpu_seconds, run_workers, sleep_until


@dataclass(frozen=True)
class FanoutParams:
    documents: int = 50
    subscribers: int = 4
    updates: int = 200
    """Updates per writer (burst)."""
    paced: bool = False
    rate: float = 2000.0
    """Updates per second over all writers (paced)."""
    seconds: float = 5.0
    """Length of the paced run."""
    timeout: float = 120.0

    @property
    def updates_per_writer(self) -> int:
        return round(self.rate * self.seconds / self.documents) if self.paced else self.updates


@dataclass(frozen=True)
class FanoutShard:
    target: Target
    params: FanoutParams
    documents: list[int]
    run: int
    subscriber_target: Target | None = None
    """Where the subscribers connect, when not where the writers do (another hub node)."""


def document_name(index: int, run: int) -> str:
    return f"work_order:FO-{run}-{index:05d}"


@dataclass
class _Document:
    index: int
    name: str
    client: int
    frames: list[bytes]
    sent: list[float]
    acks: list[float]
    recv: list[list[float]] = field(default_factory=list)
    writer: Opened | None = None
    subscribers: list[Opened] = field(default_factory=list)
    refused: int = 0


class _Progress:
    """Counts down what is still expected; ``done`` is set when nothing is."""

    def __init__(self, deliveries: int, acks: int) -> None:
        self.deliveries = deliveries
        self.acks = acks
        self.done = asyncio.Event()
        self.unrecognised = 0
        if deliveries <= 0 and acks <= 0:
            self.done.set()

    def delivered(self) -> None:
        self.deliveries -= 1
        if self.deliveries <= 0 and self.acks <= 0:
            self.done.set()

    def acked(self) -> None:
        self.acks -= 1
        if self.deliveries <= 0 and self.acks <= 0:
            self.done.set()


async def _subscriber_loop(socket: Any, parse: Any, document: _Document, received: list[float],
                           progress: _Progress) -> None:
    client = document.client
    clock = time.perf_counter
    try:
        async for data in socket:
            now = clock()
            frame = parse(data)
            if frame.kind != UPDATE or frame.structs == 0:
                continue
            if frame.client != client:
                progress.unrecognised += 1
                continue
            for index in range(frame.clock, min(frame.clock + frame.structs, len(received))):
                if not received[index]:
                    received[index] = now
                    progress.delivered()
    except websockets.ConnectionClosed:
        pass


async def _writer_loop(socket: Any, parse: Any, document: _Document, progress: _Progress, acks: bool) -> None:
    clock = time.perf_counter
    next_ack = 0
    try:
        async for data in socket:
            now = clock()
            if not acks:
                continue  # pycrdt-websocket echoes the writer's own updates; nothing to record
            frame = parse(data)
            if frame.kind == STATUS and next_ack < len(document.acks):
                document.acks[next_ack] = now
                next_ack += 1
                if not frame.applied:
                    document.refused += 1
                progress.acked()
    except websockets.ConnectionClosed:
        pass


async def _burst(document: _Document) -> None:
    assert document.writer is not None
    socket, sent, clock = document.writer.socket, document.sent, time.perf_counter
    for i, frame in enumerate(document.frames):
        sent[i] = clock()
        await socket.send(frame)


async def _paced(documents: list[_Document], params: FanoutParams, start: float) -> None:
    per_writer = params.rate / params.documents  # updates per second of one writer
    schedule = sorted(
        ((i + d.index / params.documents) / per_writer, n, i)
        for n, d in enumerate(documents)
        for i in range(len(d.frames))
    )
    clock = time.perf_counter
    for offset, n, i in schedule:
        await sleep_until(start + offset)
        document = documents[n]
        assert document.writer is not None
        document.sent[i] = clock()
        await document.writer.socket.send(document.frames[i])


async def fanout_job(ctx: WorkerContext, shard: FanoutShard) -> None:
    """The client side of one share of the documents."""
    target, params = shard.target, shard.params
    hocuspocus = target.dialect == "hocuspocus"
    count = params.updates_per_writer
    documents: list[_Document] = []
    for index in shard.documents:
        name = document_name(index, shard.run)
        client = CLIENT_BASE + index
        updates = field_updates(client, count)
        frames = [hp_update(name, u) for u in updates] if hocuspocus else [yw_update(u) for u in updates]
        documents.append(_Document(index, name, client, frames, [0.0] * count, [0.0] * count,
                                   [[0.0] * count for _ in range(params.subscribers)]))
    writers = await open_many(target, [(d.name, f"fo{shard.run}-{d.index}-w") for d in documents])
    opened = list(writers)
    subscribers = await open_many(shard.subscriber_target or target, [
        (d.name, f"fo{shard.run}-{d.index}-s{k}") for d in documents for k in range(params.subscribers)])
    opened += subscribers
    for n, document in enumerate(documents):
        document.writer = writers[n]
        document.subscribers = subscribers[n * params.subscribers:(n + 1) * params.subscribers]
    parse = parse_hocuspocus if hocuspocus else parse_ywebsocket
    progress = _Progress(len(documents) * params.subscribers * count, len(documents) * count if hocuspocus else 0)
    readers = []
    for document in documents:
        assert document.writer is not None
        readers.append(asyncio.ensure_future(_writer_loop(document.writer.socket, parse, document, progress, hocuspocus)))
        for k, subscriber in enumerate(document.subscribers):
            readers.append(asyncio.ensure_future(
                _subscriber_loop(subscriber.socket, parse, document, document.recv[k], progress)))
    try:
        start = await ctx.ready()
        await sleep_until(start)
        cpu_before = cpu_seconds()
        if params.paced:
            sender = asyncio.ensure_future(_paced(documents, params, start))
        else:
            sender = asyncio.ensure_future(asyncio.gather(*(_burst(d) for d in documents)))
        timed_out = False
        try:
            await asyncio.wait_for(asyncio.shield(progress.done.wait()), params.timeout)
        except asyncio.TimeoutError:
            timed_out = True
        await asyncio.wait_for(sender, 30)
        cpu = cpu_seconds() - cpu_before
        await ctx.finished(_result(documents, progress, timed_out, cpu, hocuspocus))
    finally:
        for reader in readers:
            reader.cancel()
        await close_all(opened)


def _result(documents: list[_Document], progress: _Progress, timed_out: bool, cpu: float,
            acks: bool) -> dict[str, Any]:
    delivery: list[float] = []
    ack: list[float] = []
    receipts: list[float] = []
    for d in documents:
        for received in d.recv:
            for sent, got in zip(d.sent, received):
                if got:
                    delivery.append(got - sent)
                    receipts.append(got)
        if acks:
            ack.extend(got - sent for sent, got in zip(d.sent, d.acks) if got)
    sends = [s for d in documents for s in d.sent if s]
    return {
        "sent": len(sends),
        "first_send": min(sends) if sends else 0.0,
        "last_send": max(sends) if sends else 0.0,
        "deliveries": len(delivery),
        "last_receipt": max(receipts) if receipts else 0.0,
        "delivery_latencies": delivery,
        "acks": len(ack),
        "last_ack": max((a for d in documents for a in d.acks if a), default=0.0),
        "ack_latencies": ack,
        "refused": sum(d.refused for d in documents),
        "missing_deliveries": max(0, progress.deliveries),
        "missing_acks": max(0, progress.acks),
        "unrecognised": progress.unrecognised,
        "timed_out": timed_out,
        "generator_cpu": cpu,
    }


# -- the parent's side ---------------------------------------------------------------------------------


def measure(server: Server, params: FanoutParams, *, procs: int, run: int,
            subscribers_on: Server | None = None) -> dict[str, float | None]:
    """One run against ``server`` (started fresh for it), its subscribers on ``subscribers_on`` when given (another
    node of the same cluster); returns the figures of this run."""
    other = subscribers_on.target if subscribers_on is not None else None
    shards = [FanoutShard(server.target, params, list(range(p, params.documents, procs)), run, other)
              for p in range(min(procs, params.documents))]
    usage = ServerUsage(server)
    settle: dict[str, float] = {}

    def finished(results: list[dict[str, Any]]) -> None:
        usage.finished(results)
        if server.ystore_path is not None:  # its writes run in the background: let them finish first
            settle["s"] = wait_files_quiet([server.ystore_path, server.ystore_path.with_name("ystore.db-journal")])

    results = run_workers(fanout_job, shards, prepare_timeout=180, run_timeout=params.timeout + 60,
                          on_started=usage.started, on_finished=finished)
    figures = _figures(results, params, hocuspocus=server.target.dialect == "hocuspocus")
    figures.update(cpu_s=usage.cpu_s, peak_rss_mb=usage.peak_rss_mb)
    figures["generator_cpu_s"] = sum(r["generator_cpu"] for r in results)
    first = min(r["first_send"] for r in results if r["sent"])
    wall = max(max(r["last_receipt"], r["last_ack"], r["last_send"]) for r in results) - first
    if wall > 0:
        figures["generator_load_pct"] = 100 * figures["generator_cpu_s"] / (wall * len(shards))
    names = [document_name(i, run) for i in range(params.documents)]
    count = params.updates_per_writer
    if server.database_url is not None:
        server.stop()  # graceful: commits and acknowledges what it holds; reading after it is final
        figures["writes_lost"] = figures["sent"] - fieldsync_stored(server.database_url, names, count)
    elif server.ystore_path is not None:
        server.stop()
        figures["writes_lost"] = figures["sent"] - pycrdt_stored(server.ystore_path, names, count)
        figures["store_settle_s"] = settle["s"]
    return figures


def _figures(results: list[dict[str, Any]], params: FanoutParams, *, hocuspocus: bool) -> dict[str, float | None]:
    first = min(r["first_send"] for r in results if r["sent"])
    deliveries = sum(r["deliveries"] for r in results)
    last = max(r["last_receipt"] for r in results)
    delivery = [x for r in results for x in r["delivery_latencies"]]
    figures: dict[str, float | None] = {
        "sent": sum(r["sent"] for r in results),
        "deliveries": deliveries,
        "missing_deliveries": sum(r["missing_deliveries"] for r in results),
        "deliveries_per_s": deliveries / (last - first) if last > first else None,
        "delivery_p50_ms": _ms(percentile(delivery, 50)),
        "delivery_p95_ms": _ms(percentile(delivery, 95)),
        "delivery_p99_ms": _ms(percentile(delivery, 99)),
        "unrecognised": sum(r["unrecognised"] for r in results),
    }
    if params.paced:
        last_send = max(r["last_send"] for r in results)
        sent = figures["sent"] or 0
        figures["send_rate"] = (sent - 1) / (last_send - first) if last_send > first else None
    if hocuspocus:
        ack = [x for r in results for x in r["ack_latencies"]]
        last_ack = max(r["last_ack"] for r in results)
        figures.update(
            acks_per_s=len(ack) / (last_ack - first) if last_ack > first else None,
            ack_p50_ms=_ms(percentile(ack, 50)),
            ack_p95_ms=_ms(percentile(ack, 95)),
            ack_p99_ms=_ms(percentile(ack, 99)),
            missing_acks=sum(r["missing_acks"] for r in results),
            refused=sum(r["refused"] for r in results),
        )
    return figures


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000
