"""Fan-out of committed updates between hub nodes."""

from sync.bus.base import Bus, BusMessage, Handler
from sync.bus.memory import InProcessBus

__all__ = ["Bus", "BusMessage", "Handler", "InProcessBus"]
