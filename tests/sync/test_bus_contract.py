"""The ``Bus`` contract, over every bus: the in-process one and Redis (the shared server, a prefix per test)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from sync.bus import Bus, InProcessBus, RedisBus


class Recorder:
    """A bus listener that keeps what it was given."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.connections = 0
        self.changed = asyncio.Event()

    def received(self, data: bytes) -> None:
        self.messages.append(data)
        self.changed.set()

    def connected(self) -> None:
        self.connections += 1
        self.changed.set()

    async def wait(self, condition: Callable[[], bool], timeout: float = 5) -> None:
        async def until() -> None:
            while not condition():
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(until(), timeout)


Network = Callable[[str], Bus]


@pytest.fixture(params=["memory", "redis"])
def network(request: pytest.FixtureRequest) -> Network:
    """Buses on one network by name: buses of the same name hear each other, of another name never."""
    if request.param == "memory":
        shared: dict[str, InProcessBus] = {}
        return lambda name: shared.setdefault(name, InProcessBus())
    url = request.getfixturevalue("shared_redis_url")
    prefix = request.getfixturevalue("redis_prefix")
    return lambda name: RedisBus(url, prefix=f"{prefix}-{name}")


@asynccontextmanager
async def listening(bus: Bus) -> AsyncIterator[Recorder]:
    recorder = Recorder()
    task = asyncio.create_task(bus.run(recorder))
    try:
        await recorder.wait(lambda: recorder.connections == 1)
        yield recorder
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await bus.close()


async def test_every_listener_hears_every_message_in_order_its_publisher_included(network: Network) -> None:
    a, b = network("one"), network("one")
    async with listening(a) as heard_a, listening(b) as heard_b:
        sent = [f"m{i}".encode() for i in range(200)]
        for data in sent:
            await a.publish(data)
        for heard in (heard_a, heard_b):
            await heard.wait(lambda: len(heard.messages) >= len(sent))
            assert heard.messages == sent


async def test_listeners_are_told_when_their_subscription_starts_once(network: Network) -> None:
    async with listening(network("one")) as heard:
        await asyncio.sleep(0.2)
        assert heard.connections == 1


async def test_buses_of_other_networks_hear_nothing(network: Network) -> None:
    async with listening(network("one")) as mine, listening(network("other")) as theirs:
        await network("one").publish(b"private")
        await mine.wait(lambda: mine.messages == [b"private"])
        await asyncio.sleep(0.2)
        assert theirs.messages == []


async def test_a_listener_that_raises_does_not_stop_delivery(network: Network) -> None:
    class Failing(Recorder):
        def received(self, data: bytes) -> None:
            super().received(data)
            raise RuntimeError("listener bug")

    bus = network("one")
    failing = Failing()
    task = asyncio.create_task(bus.run(failing))
    try:
        async with listening(network("one")) as healthy:
            await failing.wait(lambda: failing.connections == 1)
            await bus.publish(b"x")
            await bus.publish(b"y")
            await healthy.wait(lambda: healthy.messages == [b"x", b"y"])
            await failing.wait(lambda: failing.messages == [b"x", b"y"])
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
