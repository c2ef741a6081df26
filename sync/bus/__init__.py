"""Fan-out of committed updates between hub nodes."""

from sync.bus.base import Bus, BusMessage, Handler
from sync.bus.extension import BusExtension
from sync.bus.memory import InProcessBus

__all__ = ["Bus", "BusExtension", "BusMessage", "Handler", "InProcessBus"]
