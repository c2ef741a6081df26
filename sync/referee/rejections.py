"""Updates of tokens refused access: kept for review, stored before the device is told, and bounded per device.

A device whose token may not write a document may still send updates to it (an edit made offline before the
record was reassigned, or an attacker with a valid token). Each such update is never applied; it is stored in the
review queue (kind ``rejected``) before the device gets its ``write_rejected`` notice, so a hub that dies between
the two loses nothing the notice spoke of. Identical updates are one row. At most ``per_hour`` are kept per device
and clock hour on this node: more are refused without a row, so a refused token cannot grow the review queue without
bound; the device keeps every refused update either way (it was never acknowledged).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import Enum

from sync.access import Principal
from sync.errors import StoreError
from sync.referee.conflicts import rejected_row
from sync.store import ConflictRecord, ConflictStore

__all__ = ["Kept", "Rejections"]

log = logging.getLogger(__name__)


class Kept(Enum):
    """What became of one refused update."""

    STORED = "stored"
    OVER_LIMIT = "over_limit"
    STORE_FAILED = "store_failed"


class Rejections:
    """The review queue's intake of refused updates."""

    def __init__(self, store: ConflictStore, *, per_hour: int,
                 on_recorded: Callable[[Sequence[ConflictRecord]], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._on_recorded = on_recorded
        self._clock = clock
        self.per_hour = per_hour
        self._kept: dict[tuple[str, str], tuple[int, int]] = {}
        """(tenant, device): the hour (of the monotonic clock) and how many were kept in it."""

    async def keep(self, principal: Principal, name: str, update: bytes) -> Kept:
        """Store ``update`` of ``principal`` (refused access to ``name``) for review, unless over its budget."""
        key, hour = (principal.tenant, principal.device), int(self._clock() // 3600)
        counted, kept = self._kept.get(key, (hour, 0))
        kept = kept if counted == hour else 0
        if kept >= self.per_hour:
            return Kept.OVER_LIMIT
        self._kept[key] = (hour, kept + 1)  # counted before the save: concurrent updates cannot pass the limit
        who = {"user": principal.user, "device": principal.device}
        rows = [rejected_row(principal.tenant, name, who, update, datetime.now(UTC))]
        try:
            await self._store.save_conflicts(rows)
        except StoreError as exc:
            log.error("keeping a rejected update of %s for review failed: %s", name[:80], exc.reason)
            return Kept.STORE_FAILED
        self._on_recorded(rows)
        return Kept.STORED

    def prune(self) -> int:
        """Forget the counts of past hours; returns how many were forgotten."""
        hour = int(self._clock() // 3600)
        past = [key for key, (counted, _) in self._kept.items() if counted != hour]
        for key in past:
            del self._kept[key]
        return len(past)
