"""The referee: every client write of a record held to the domain rules, corrected, recorded, reviewed."""

from __future__ import annotations

from sync.referee.conflicts import ConflictQueue
from sync.referee.corrections import HUB_ORIGIN, HubWriter, hub_clock
from sync.referee.referee import Referee
from sync.referee.review import Review

__all__ = ["HUB_ORIGIN", "ConflictQueue", "HubWriter", "Referee", "Review", "hub_clock"]
