"""The ``devices`` table kept current: an extension that notes what devices do and writes it in batches.

Hooks only note which device changed (``document_authenticated``, ``connection_closed``); ``run`` writes the
noted devices every ``interval`` seconds in one transaction, and also notices sockets whose acknowledgements
moved on (a successful sync) by reading their counters. Like the projector, a failed write is retried with
the next batch. When the hub stops it cancels ``run``, after its sockets were closed; ``run`` then writes what
was noted since the last batch (those closes among it), within ``last_flush_seconds``, so a device's last
sight is not lost with the process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sync.access import Principal
from sync.connection.link import LinkState
from sync.errors import StoreError
from sync.hooks import Extension
from sync.protocol.control import SCOPES_DOCUMENT
from sync.store import DeviceSeen, DeviceStore

__all__ = ["DeviceTracker"]

log = logging.getLogger(__name__)
DeviceKey = tuple[str, str]


class DeviceTracker(Extension):
    """Notes devices as they authenticate, sync and leave; saves them every ``interval`` seconds."""

    name = "device-tracker"

    def __init__(self, store: DeviceStore, sessions: Callable[[], Iterable[Any]], *, interval: float = 1.0,
                 last_flush_seconds: float = 5.0) -> None:
        """``sessions`` gives the hub's open sockets when asked; ``last_flush_seconds`` bounds the write at stop."""
        self._store = store
        self._sessions = sessions
        self._interval = interval
        self._last_flush_seconds = last_flush_seconds
        self._dirty: dict[DeviceKey, Principal] = {}
        self._synced: dict[DeviceKey, datetime] = {}
        self._acked: dict[Any, int] = {}  # session -> acknowledgements already accounted for
        self._following: dict[DeviceKey, tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def document_authenticated(self, connection: Any, name: str, principal: Principal, scope: Any) -> None:
        self._dirty[(principal.tenant, principal.device)] = principal

    def connection_closed(self, connection: Any) -> None:
        principal = connection.principal
        if principal is not None:
            self._note_acks(connection, principal)
            self._dirty[(principal.tenant, principal.device)] = principal
        self._acked.pop(connection, None)

    async def run(self) -> None:
        try:
            while True:
                await asyncio.sleep(self._interval)
                await self.flush()
        finally:
            await self._last_flush()

    async def _last_flush(self) -> None:
        """The hub stops: write what was noted since the last batch, bounded in time; log what is lost."""
        for session in list(self._sessions()):  # sockets still open were seen until now
            if session.principal is not None:
                self._dirty[(session.principal.tenant, session.principal.device)] = session.principal
        if not self._dirty:
            return
        try:
            async with asyncio.timeout(self._last_flush_seconds):
                await self.flush()
        except TimeoutError:
            log.error("saving %d devices at shutdown took over %s s: their last sight is lost",
                      len(self._dirty), self._last_flush_seconds)
            return
        if self._dirty:  # the write failed (logged by flush) and no next batch will come
            log.error("saving %d devices at shutdown failed: their last sight is lost", len(self._dirty))

    async def flush(self) -> None:
        """Write every device noted since the last flush (what admin reads call first, too)."""
        for session in list(self._sessions()):
            if session.principal is not None:
                self._note_acks(session, session.principal)
        dirty, self._dirty = self._dirty, {}
        if not dirty:
            return
        now = datetime.now(UTC)
        live = self._live()
        rows = []
        for key, principal in dirty.items():
            sessions = live.get(key)
            if sessions:
                self._following[key] = _following(sessions)
            documents, scopes = self._following.get(key, ((), ()))
            versions = [s.outlet.traffic.client_version for s in sessions or ()]
            rows.append(DeviceSeen(tenant=key[0], device=key[1], user=principal.user, seen_at=now,
                                   client_version=next(filter(None, versions), ""), synced_at=self._synced.get(key),
                                   documents=documents, scopes=scopes))
        try:
            await self._store.save_devices(rows)
        except StoreError as exc:
            log.error("saving %d devices failed: %s", len(rows), exc.reason)
            self._dirty = dirty | self._dirty
            return
        except asyncio.CancelledError:  # stopped mid-write: the last flush writes them again
            self._dirty = dirty | self._dirty
            raise
        for key in dirty:
            self._synced.pop(key, None)
            if key not in live:
                self._following.pop(key, None)

    def _note_acks(self, session: Any, principal: Principal) -> None:
        acked = session.replies.acked
        if acked != self._acked.get(session, 0):
            self._acked[session] = acked
            key = (principal.tenant, principal.device)
            self._dirty[key] = principal
            self._synced[key] = datetime.now(UTC)

    def _live(self) -> dict[DeviceKey, list[Any]]:
        live: dict[DeviceKey, list[Any]] = {}
        for session in list(self._sessions()):
            if session.principal is not None and session.outlet.open:
                live.setdefault((session.principal.tenant, session.principal.device), []).append(session)
        return live


def _following(sessions: list[Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The documents and scopes a device's sockets follow now."""
    documents = {name for s in sessions for name, link in s.links.items()
                 if link.state is LinkState.AUTHENTICATED and name != SCOPES_DOCUMENT}
    scopes = {sub.scope.key for s in sessions for sub in s.scopes.subscriptions.values()}
    return tuple(sorted(documents)), tuple(sorted(scopes))
