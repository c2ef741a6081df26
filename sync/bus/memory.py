"""The in-process bus of the embedded mode: every hub sharing the object sees every message."""

from __future__ import annotations

import inspect
from collections.abc import Sequence

from sync.bus.base import Bus, BusMessage, Handler


class InProcessBus(Bus):
    """Delivers synchronously to handlers in this process (several hubs in one process share one)."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._handlers.clear()

    async def publish(self, messages: Sequence[BusMessage]) -> None:
        for message in messages:
            for handler in self._handlers:
                result = handler(message)
                if inspect.isawaitable(result):
                    await result

    def subscribe(self, handler: Handler) -> None:
        self._handlers.append(handler)
