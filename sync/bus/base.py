"""The bus carries committed updates from the node that accepted them to every other hub node."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence

import msgspec


class BusMessage(msgspec.Struct, frozen=True, array_like=True):
    """One committed update of one document, published by node ``node``."""

    node: str
    tenant: str
    name: str
    update: bytes


Handler = Callable[[BusMessage], Awaitable[None] | None]


class Bus(ABC):
    """Publish committed updates; deliver other nodes' updates to the subscribed handlers."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def publish(self, messages: Sequence[BusMessage]) -> None:
        """Publish a batch of messages (in order)."""

    @abstractmethod
    def subscribe(self, handler: Handler) -> None:
        """Call ``handler`` for every message published on the bus, including this node's own."""
