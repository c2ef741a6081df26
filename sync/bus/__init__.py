"""Fan-out between hub nodes: the ``Bus`` transport (in-process, Redis) and the extension that uses it."""

from sync.bus.base import Bus, BusListener, BusUnavailable
from sync.bus.extension import BusExtension
from sync.bus.memory import InProcessBus
from sync.bus.messages import AwarenessChanged, Envelope, Message, UpdateCommitted
from sync.bus.redis import RedisBus

__all__ = [
    "AwarenessChanged", "Bus", "BusExtension", "BusListener", "BusUnavailable", "Envelope", "InProcessBus", "Message",
    "RedisBus", "UpdateCommitted",
]
