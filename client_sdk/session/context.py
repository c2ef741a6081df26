"""What the parts of one connection share: the socket, the replica, the token, the settings and the callbacks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from client_sdk.config import SyncConfig
from client_sdk.replica import LocalReplica
from client_sdk.session.hub_socket import Connection
from client_sdk.state import Acknowledged, ErrorReported, SyncError, SyncEvent


@dataclass(frozen=True, slots=True)
class SessionContext:
    """Handed by the client to the session of one connection, and by the session to its scope channel."""

    conn: Connection
    replica: LocalReplica
    token: Callable[[], str]
    """The token to authenticate with now (a provider's may change during the connection)."""
    config: SyncConfig
    clock: Callable[[], float]
    """Loop time, for pacing retries."""
    report: Callable[[SyncEvent], None]
    """Tell the client (and so the app) what happened."""
    changed: Callable[[], None]
    """Ask the client to look again at its state (synced or not, progress)."""
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the session's loop has something to do now."""

    async def acknowledged(self, name: str, ids: Sequence[int]) -> None:
        """Outbox entries ``ids`` of document ``name`` are stored by the hub: drop them and tell the app."""
        if ids:
            removed = await self.replica.acknowledge(ids)
            self.report(Acknowledged(name, tuple(removed)))

    def error(self, code: str, message: str, *, document: str | None = None,
              subscription: str | None = None) -> None:
        """Report a refusal or a problem with one document (or subscription) that syncing goes on after."""
        self.report(ErrorReported(SyncError(code=code, message=message, document=document,
                                            subscription=subscription)))
