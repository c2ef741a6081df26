"""The in-process bus of the embedded mode: the hubs sharing one object (in one process) hear each other."""

from __future__ import annotations

import asyncio
import logging

from sync.bus.base import Bus, BusListener

__all__ = ["InProcessBus"]

log = logging.getLogger(__name__)


class InProcessBus(Bus):
    """Delivers synchronously to the listeners running on it; never loses a message while they run."""

    def __init__(self) -> None:
        self._listeners: list[BusListener] = []

    async def publish(self, data: bytes) -> None:
        for listener in list(self._listeners):
            try:
                listener.received(data)
            except Exception:  # one failing listener must not cost the others their message
                log.exception("bus listener failed")

    async def run(self, listener: BusListener) -> None:
        self._listeners.append(listener)
        listener.connected()
        try:
            await asyncio.Event().wait()  # until cancelled
        finally:
            self._listeners.remove(listener)

    async def close(self) -> None:
        """Nothing to release: the listeners leave when their ``run`` is cancelled (other hubs may share it)."""
