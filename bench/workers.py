"""Load-generator processes and the two barriers every workload uses.

A workload's client side is an async ``Job`` run in one or more forked processes, each with its own share
of the connections (``shards``). Every job goes through the same steps:

1. prepare (precompute updates, connect, handshake), then ``await ctx.ready()``;
2. the parent runs its ``on_ready`` hook (e.g. read the server's RSS, wait for documents to unload), picks
   a start instant a little in the future and releases every process at once; ``ready()`` returns that
   instant and the job starts its clock there;
3. the job measures, then ``await ctx.finished(result)``;
4. the parent runs ``on_finished`` (e.g. wait for a store to settle) while the connections stay open,
   then releases the processes, which close their connections and exit.

``time.perf_counter`` is ``CLOCK_MONOTONIC`` on Linux, one clock for every process of the machine, so send
and receipt instants taken in different processes compare directly.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

START_DELAY = 0.05  # seconds between the release and the common start instant
_CONTEXT = multiprocessing.get_context("fork")


class WorkerContext:
    """The job's side of the barriers."""

    def __init__(self, index: int, messages: Any, go: Any, release: Any, start: Any) -> None:
        self.index = index
        self._messages = messages
        self._go = go
        self._release = release
        self._start = start

    async def ready(self) -> float:
        """Report ready; wait for the parent; returns the common start instant (``perf_counter`` seconds)."""
        self._messages.put(("ready", self.index, None))
        await asyncio.get_running_loop().run_in_executor(None, self._go.wait)
        return float(self._start.value)

    async def finished(self, result: dict[str, Any]) -> None:
        """Hand the result to the parent and wait until it lets the connections go."""
        self._messages.put(("finished", self.index, result))
        await asyncio.get_running_loop().run_in_executor(None, self._release.wait)


Job = Callable[[WorkerContext, Any], Awaitable[None]]


class WorkerError(RuntimeError):
    """A generator process failed or did not answer in time."""


def _main(job: Job, shard: Any, ctx: WorkerContext) -> None:
    try:
        asyncio.run(job(ctx, shard))
    except BaseException:  # noqa: BLE001 - the parent reports it
        ctx._messages.put(("error", ctx.index, traceback.format_exc()))


def _collect(messages: Any, kind: str, count: int, deadline: float, processes: Sequence[Any]) -> dict[int, Any]:
    got: dict[int, Any] = {}
    while len(got) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WorkerError(f"generator processes not {kind} in time ({len(got)} of {count})")
        try:
            what, index, payload = messages.get(timeout=min(remaining, 1.0))
        except queue.Empty:
            dead = [p for p in processes if p.exitcode not in (None, 0)]
            if dead:
                raise WorkerError(f"a generator process exited with {dead[0].exitcode}") from None
            continue
        if what == "error":
            raise WorkerError(f"generator process {index} failed:\n{payload}")
        if what == kind:
            got[index] = payload
    return got


def run_workers(
    job: Job,
    shards: Sequence[Any],
    *,
    prepare_timeout: float,
    run_timeout: float,
    on_ready: Callable[[], None] | None = None,
    on_started: Callable[[float], None] | None = None,
    on_finished: Callable[[list[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run ``job`` once per shard, each in its own process; returns the results in shard order."""
    messages = _CONTEXT.Queue()
    go, release = _CONTEXT.Event(), _CONTEXT.Event()
    start = _CONTEXT.Value("d", 0.0)
    processes = [
        _CONTEXT.Process(target=_main, args=(job, shard, WorkerContext(i, messages, go, release, start)), daemon=True)
        for i, shard in enumerate(shards)
    ]
    try:
        for process in processes:
            process.start()
        _collect(messages, "ready", len(processes), time.monotonic() + prepare_timeout, processes)
        if on_ready is not None:
            on_ready()
        start.value = time.perf_counter() + START_DELAY
        if on_started is not None:
            on_started(start.value)
        go.set()
        finished = _collect(messages, "finished", len(processes), time.monotonic() + run_timeout, processes)
        results = [finished[i] for i in range(len(processes))]
        if on_finished is not None:
            on_finished(results)
        release.set()
        for process in processes:
            process.join(30)
        return results
    finally:
        go.set()
        release.set()
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join(5)
            if process.is_alive():
                process.kill()
                process.join()
        messages.close()
        messages.join_thread()


async def sleep_until(instant: float) -> None:
    """Sleep until ``perf_counter()`` reaches ``instant``."""
    delay = instant - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


def cpu_seconds() -> float:
    """CPU time of this process (all its threads)."""
    return time.process_time()
