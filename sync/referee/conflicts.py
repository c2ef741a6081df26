"""Conflicts and violations as rows of the store's ``conflicts`` table, and the queue that saves them.

Rows are saved in the background, like projections: a conflict is a record of what happened, not part of
the acknowledged update. Each row's ``key`` names what was found, so saving it twice (a retry, the same
conflict found on another hub node) stores it once.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from conflict import FieldConflict, FieldStamp
from sync.errors import StoreError
from conflict.outcome import Outcome, Violation
from sync.store import ConflictRecord, Store

log = logging.getLogger(__name__)

CONFLICT, VIOLATION, REJECTED = "conflict", "violation", "rejected"


def _stamp(stamp: FieldStamp) -> dict[str, Any]:
    return {"value": stamp.value, "device": stamp.device, "user": stamp.user, "hlc": stamp.hlc.encode(),
            "roles": sorted(stamp.roles)}


def conflict_row(tenant: str, name: str, conflict: FieldConflict, now: datetime) -> ConflictRecord:
    """Both writes of a conflict; the winner is the policy's."""
    winner = _stamp(conflict.winner)
    return ConflictRecord(
        tenant=tenant, name=name, field=conflict.field, key=conflict.key, kind=CONFLICT,
        values=[winner, _stamp(conflict.loser)], winner=winner, needs_review=conflict.needs_review, created_at=now,
    )


def violation_row(tenant: str, name: str, violation: Violation, now: datetime) -> ConflictRecord:
    """The refused write and the value the hub kept instead."""
    kept = {"value": violation.kept, "user": "hub"}
    return ConflictRecord(
        tenant=tenant, name=name, field=violation.field, key=violation.key, kind=VIOLATION,
        code=str(violation.code), values=[violation.rejected, kept], winner=kept, created_at=now,
    )


def rejected_row(tenant: str, name: str, who: dict[str, Any], update: bytes, now: datetime) -> ConflictRecord:
    """An update that was never applied (its author had no access): its content, author and time, for review."""
    digest = hashlib.blake2b(update, digest_size=10).hexdigest()
    rejected = {"update": base64.b64encode(update).decode(), "bytes": len(update), "at": now.isoformat(), **who}
    return ConflictRecord(
        tenant=tenant, name=name, field="", key=f"{REJECTED}|{digest}", kind=REJECTED, code="write_rejected",
        values=[rejected], winner=None, needs_review=True, created_at=now,
    )


def outcome_rows(tenant: str, name: str, outcome: Outcome, now: datetime) -> list[ConflictRecord]:
    return [conflict_row(tenant, name, c, now) for c in outcome.conflicts] + [
        violation_row(tenant, name, v, now) for v in outcome.violations
    ]


class ConflictQueue:
    """Rows waiting to be saved; ``flush`` saves them in one transaction and keeps them when the store fails."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: dict[tuple[str, str, str], ConflictRecord] = {}
        self._flushing = asyncio.Lock()

    def add(self, rows: Iterable[ConflictRecord]) -> None:
        for row in rows:
            self._pending.setdefault((row.tenant, row.name, row.key), row)

    def __len__(self) -> int:
        return len(self._pending)

    async def flush(self) -> None:
        """Save what is pending; when it returns, every row added before the call is stored (or kept)."""
        async with self._flushing:  # a flush in flight holds rows this caller may be waiting for
            if not self._pending:
                return
            rows, self._pending = self._pending, {}
            try:
                await self._store.save_conflicts(list(rows.values()))
            except StoreError as exc:
                log.error("saving %d conflicts failed: %s", len(rows), exc.reason)
                rows.update(self._pending)
                self._pending = rows
