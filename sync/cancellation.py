"""Keeping a task's cancellation when a library swallows it.

A client library may catch the ``CancelledError`` meant for the task that awaits it (redis-py does, in a race
between its own timeouts and the cancellation: the request is answered with a connection error instead). A
loop that goes on after that never ends, and the hub's shutdown, which cancels its background tasks and
waits for them, waits for ever. ``uncancelled`` awaits one call and raises ``CancelledError`` afterwards
whenever the task has been asked to stop, whatever the call returned or raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["uncancelled"]

T = TypeVar("T")


async def uncancelled(call: Awaitable[T]) -> T:
    """Await ``call``; if the current task was cancelled meanwhile, raise ``CancelledError`` however it ended."""
    try:
        return await call
    finally:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise asyncio.CancelledError  # noqa: B012 - the request to stop outranks what the call did
