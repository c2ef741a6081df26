"""The bus carries what one hub node must tell the others: bytes published to every node, its own included.

A bus is a transport; it knows nothing of documents. It promises two things, which ``BusExtension``
builds on: every published message reaches every listener that is connected, in the order published by
one node; and a listener is told ``connected()`` each time its subscription (re)starts, since messages
published while it was not subscribed are lost (the extension then catches up from the store).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol

from sync.errors import FieldsyncError

__all__ = ["Bus", "BusListener", "BusUnavailable"]


class BusUnavailable(FieldsyncError):
    """The bus could not take a message (its server is unreachable); the message is lost."""

    def __init__(self, reason: str) -> None:
        super().__init__("bus_unavailable", reason)


class BusListener(Protocol):
    """What a bus delivers to."""

    def received(self, data: bytes) -> None:
        """One published message (this node's own too)."""

    def connected(self) -> None:
        """The subscription (re)started: anything published before this instant may have been missed."""


class Bus(ABC):
    """Publish to every node; deliver every node's messages to one listener."""

    @abstractmethod
    async def publish(self, data: bytes) -> None:
        """Send ``data`` to every node. Raises ``BusUnavailable`` when it cannot be sent."""

    @abstractmethod
    async def run(self, listener: BusListener) -> None:
        """Deliver messages to ``listener`` until cancelled, reconnecting by itself after a failure."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections; ``publish`` raises ``BusUnavailable`` afterwards."""
