"""A task asked to stop stops, even when a library it awaits swallows the cancellation."""

from __future__ import annotations

import asyncio

import pytest

from sync.cancellation import uncancelled


async def swallowing() -> str:
    """A call that answers instead of letting a cancellation through (as redis-py does in a race)."""
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        return "answered anyway"
    return "slept"


async def test_a_loop_over_a_call_that_swallows_the_cancellation_still_stops() -> None:
    calls = 0
    ended = asyncio.Event()

    async def loop(guard: bool) -> None:
        nonlocal calls
        while not ended.is_set():
            calls += 1
            await (uncancelled(swallowing()) if guard else swallowing())

    unguarded = asyncio.create_task(loop(False))
    await asyncio.sleep(0.01)
    unguarded.cancel()
    done, _ = await asyncio.wait([unguarded], timeout=0.2)
    assert not done, "without the guard the loop goes on: the failure this module exists for"
    ended.set()
    unguarded.cancel()  # swallowed again; the loop then sees it should end
    await asyncio.wait_for(unguarded, 1.0)
    ended.clear()

    guarded = asyncio.create_task(loop(True))
    await asyncio.sleep(0.01)
    before = calls
    guarded.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(guarded, 1.0)
    assert calls == before, "stopped after the call it was in"


async def test_a_call_that_ends_normally_returns_its_answer() -> None:
    async def answer() -> int:
        return 7

    assert await uncancelled(answer()) == 7
