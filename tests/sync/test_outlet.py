"""The send queue: bounded in frames and in bytes, a shared large frame counted once."""

from __future__ import annotations

import asyncio

from sync.connection.outlet import SHARED_FRAME_BYTES, Outlet
from sync.protocol.codes import CloseCode


class StalledSocket:
    """A peer that never reads: every send waits until ``release``."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed: tuple[int, str] | None = None
        self.gate = asyncio.Event()

    async def send(self, data: bytes) -> None:
        await self.gate.wait()
        self.sent.append(data)

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


async def test_the_queue_closes_a_slow_consumer_past_its_byte_limit() -> None:
    socket = StalledSocket()
    outlet = Outlet(socket, queue_limit=1000, byte_limit=10_000)
    for _ in range(10):
        outlet.send(b"x" * 1000)
    assert outlet.open and outlet.queued_bytes == 10_000
    outlet.send(b"x")
    assert not outlet.open and outlet.queued_bytes == 0, "closed, and what was queued is let go"
    writer = asyncio.create_task(outlet.run())
    socket.gate.set()
    await asyncio.wait_for(writer, 5)
    assert socket.closed is not None and socket.closed[0] == CloseCode.SLOW_CONSUMER


async def test_a_frame_queued_many_times_counts_once_and_a_lone_frame_always_fits() -> None:
    socket = StalledSocket()
    shared = b"s" * (SHARED_FRAME_BYTES * 4)
    outlet = Outlet(socket, queue_limit=1000, byte_limit=SHARED_FRAME_BYTES * 2)
    outlet.send(shared)
    assert outlet.open, "a frame larger than the limit alone in the queue is sent"
    outlet.close_code = None
    socket.gate.set()
    writer = asyncio.create_task(outlet.run())
    await asyncio.sleep(0.01)
    socket.gate.clear()
    big = b"b" * (SHARED_FRAME_BYTES + 1)
    for _ in range(8):
        outlet.send(big)
    assert outlet.open and outlet.queued_bytes == len(big)
    socket.gate.set()
    await asyncio.sleep(0.05)
    assert outlet.queued_bytes == 0 and socket.sent.count(big) == 8
    await outlet.close(1000, "done")
    await asyncio.wait_for(writer, 5)
