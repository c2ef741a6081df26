"""Revoked devices: their tokens refused, their sockets closed, kept in the store so a restart keeps them.

``Revocations.cut_off`` is the one action a node takes when a device is revoked: it marks the device in
memory and closes every socket of it on this node. An admin request calls it after storing the revocation on
the node that received it; every other node reads the revocations again every half second (``run``) and cuts
off what was revoked elsewhere, and lets in what was restored, so an action on one node holds on all of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from sync.access import Principal, TokenVerifier
from sync.errors import AdminError, AuthError, StoreError
from sync.hooks import Extension, Hooks
from sync.protocol.codes import CloseCode, ErrorCode
from sync.store import DeviceRecord, DeviceStore

__all__ = ["REVOKED_REASON", "RevocationCheck", "Revocations"]

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0
#: How often every node reads the revocations again, to act on those made through another node.
REFRESH_SECONDS = 0.5
REVOKED_REASON = "this device was revoked by an administrator; keep its unsent changes until it is restored"


class Node(Protocol):
    """What cutting a device off needs of the hub: its sockets and its hooks."""

    sessions: set[Any]
    hooks: Hooks


class Revocations(Extension):
    """The revoked (tenant, device) pairs of the store, held in memory for the token check.

    Until they have been read (the store may be down when the hub starts), no token is accepted: the check
    fails closed with ``store_unavailable``, and ``run`` reads them again every second.
    """

    name = "revocations"

    def __init__(self, store: DeviceStore, *, refresh: float = REFRESH_SECONDS) -> None:
        self._store = store
        self._refresh = refresh
        self.revoked: set[tuple[str, str]] = set()
        self._acted: set[tuple[str, str]] = set()
        """Devices revoked or restored here since the current read of the store began: that read may predate it."""
        self.loaded = False
        self.node: Node | None = None
        """The hub whose sockets a revocation read from the store cuts off (set by ``Admin.bind``)."""

    async def load(self) -> bool:
        """Read every revocation from the store; False (logged) when the store cannot be read."""
        try:
            self.revoked |= set(await self._store.revoked_devices())
        except StoreError as exc:
            log.error("reading revoked devices failed, no token is accepted until it succeeds: %s", exc.reason)
            return False
        self.loaded = True
        return True

    async def run(self) -> None:
        while not self.loaded:
            await asyncio.sleep(RETRY_SECONDS)
            await self.load()
        while True:
            await asyncio.sleep(self._refresh)
            await self.follow_store()

    async def follow_store(self) -> None:
        """Act on what other nodes revoked and restored since the last read (a failed read waits for the next)."""
        known = set(self.revoked)
        self._acted.clear()
        try:
            stored = set(await self._store.revoked_devices())
        except StoreError as exc:
            log.warning("reading revoked devices failed; trying again: %s", exc.reason)
            return
        # a revoke or restore made here during the read is newer than what it returned: the next read has it
        restored, revoked = known - stored - self._acted, stored - self.revoked - self._acted
        self.revoked -= restored
        for tenant, device in sorted(revoked):
            if self.node is not None:
                self.cut_off(self.node, tenant, device)
            else:
                self.revoked.add((tenant, device))

    def is_revoked(self, tenant: str, device: str) -> bool:
        return (tenant, device) in self.revoked

    async def revoke(self, node: Node, tenant: str, device: str, *, by: str) -> tuple[DeviceRecord, int]:
        """Store the revocation, then cut the device off this node; the record and how many sockets closed."""
        record = await self._store.revoke_device(tenant, device, at=datetime.now(UTC), by=by)
        if record is None:
            raise AdminError(ErrorCode.DEVICE_NOT_FOUND, f"no device {device!r} has been seen in this tenant")
        self._acted.add((tenant, device))
        return record, self.cut_off(node, tenant, device)

    async def restore(self, tenant: str, device: str) -> DeviceRecord:
        """Lift the revocation: the device's tokens are accepted again."""
        record = await self._store.restore_device(tenant, device)
        if record is None:
            raise AdminError(ErrorCode.DEVICE_NOT_FOUND, f"no device {device!r} has been seen in this tenant")
        self._acted.add((tenant, device))
        self.revoked.discard((tenant, device))
        return record

    def cut_off(self, node: Node, tenant: str, device: str) -> int:
        """Refuse the device's tokens from now on and close its sockets here (close code 4403); returns how many.

        Frames queued for those sockets are dropped; updates they sent that were not acknowledged stay in the
        device's outbox (never acknowledged means never lost).
        """
        self.revoked.add((tenant, device))
        closed = 0
        for session in _sessions_of(node.sessions, tenant, device):
            node.hooks.refusal_sent(session, "", str(ErrorCode.DEVICE_REVOKED))
            session.outlet.begin_close(CloseCode.DEVICE_REVOKED, f"{ErrorCode.DEVICE_REVOKED}: {REVOKED_REASON}",
                                       discard_queued=True)
            closed += 1
        return closed


def _sessions_of(sessions: Iterable[Any], tenant: str, device: str) -> list[Any]:
    return [s for s in list(sessions)
            if s.principal is not None and s.principal.tenant == tenant and s.principal.device == device]


class RevocationCheck:
    """A ``TokenVerifier`` that refuses the tokens of revoked devices with ``device_revoked``."""

    def __init__(self, verifier: TokenVerifier, revocations: Revocations) -> None:
        self._verifier = verifier
        self._revocations = revocations

    async def verify(self, token: str) -> Principal:
        principal = await self._verifier.verify(token)
        if not self._revocations.loaded:
            raise StoreError("the revoked devices could not be read yet; try again")
        if self._revocations.is_revoked(principal.tenant, principal.device):
            raise AuthError(ErrorCode.DEVICE_REVOKED, REVOKED_REASON)
        return principal
