"""A device following scopes over an in-process connection (``tests.support.inproc``), for scope tests.

It speaks on the ``$scopes`` control document and keeps each subscription's member set the way a device
does: a ``members`` list replaces the set, ``added`` and ``removed`` change it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from server.auth import mint_token
from sync.errors import ProtocolError
from sync.hub import Hub
from sync.protocol import Authenticated, AuthToken, Frame, PermissionDenied, Stateless
from sync.protocol.control import (
    SCOPES_DOCUMENT, ControlMessage, ErrorNotice, ScopeMembers, Subscribe, decode_control, encode_control,
)
from sync.store import Projection
from tests.support.inproc import SECRET, Connection

TENANT = "acme"


def scope_token(sub: str = "ana", *roles: str, teams: Sequence[str] = (), tenant: str = TENANT,
                device: str | None = None, ttl: int = 3600) -> str:
    return mint_token(SECRET, sub=sub, tenant=tenant, device=device or f"{sub}-tablet",
                      roles=list(roles or ("technician",)), teams=list(teams), ttl_seconds=ttl)


def projection(name: str, status: str | None = "OPEN", assignee: str | None = "ana", *, tenant: str = TENANT,
               **record: Any) -> Projection:
    """A projection as the hub writes one, for seeding the store directly (as another hub node would)."""
    body = {"record": {"status": status, **record}}
    return Projection(tenant=tenant, name=name, type=name.partition(":")[0], status=status, assignee=assignee,
                      updated_at=datetime.now(UTC), body=body)


async def seed(hub: Hub, *rows: Projection) -> int:
    """Save projections straight to the store; the tenant's number afterwards."""
    await hub.store.save_projections(rows)
    return await hub.store.projection_seq(rows[0].tenant)


class ScopeDevice:
    """One connection's ``$scopes`` conversation, and the member sets it was told."""

    def __init__(self, hub: Hub) -> None:
        self.conn = Connection(hub)
        self.socket = self.conn.socket
        self.members: dict[str, set[str]] = {}
        self._applied = 0

    async def auth(self, auth: str | None = None) -> Frame:
        """Authenticate ``$scopes``; the hub's answer (Authenticated or PermissionDenied)."""
        self.socket.push(AuthToken(SCOPES_DOCUMENT, auth or scope_token()))
        return await self.socket.wait_frame(Authenticated | PermissionDenied, document=SCOPES_DOCUMENT)  # type: ignore[arg-type]

    def send(self, message: ControlMessage | str) -> None:
        payload = message if isinstance(message, str) else encode_control(message)
        self.socket.push(Stateless(SCOPES_DOCUMENT, payload))

    def messages(self) -> list[ControlMessage]:
        found = []
        for frame in self.socket.received:
            if isinstance(frame, Stateless) and frame.document == SCOPES_DOCUMENT:
                try:
                    found.append(decode_control(frame.payload))
                except ProtocolError:
                    continue
        return found

    def answers(self, id: str) -> list[ScopeMembers]:
        return [m for m in self.messages() if isinstance(m, ScopeMembers) and m.id == id]

    def notices(self) -> list[ErrorNotice]:
        return [m for m in self.messages() if isinstance(m, ErrorNotice)]

    async def subscribe(self, id: str, scope: str = "my_work_orders", version: int | None = None,
                        **params: str) -> ScopeMembers:
        """Subscribe and wait for the answer."""
        before, refusals = len(self.answers(id)), self._refusals(id)
        self.send(Subscribe(id=id, scope=scope, params=params, version=version))
        await self.socket.wait(lambda: len(self.answers(id)) > before or self._refusals(id) > refusals)
        answers = self.answers(id)
        assert len(answers) > before, f"refused: {self.notices()}"
        return answers[-1]

    async def refused(self, id: str, scope: str = "my_work_orders", **params: str) -> ErrorNotice:
        """Subscribe and wait for the refusal."""
        before = self._refusals(id)
        self.send(Subscribe(id=id, scope=scope, params=params))
        await self.socket.wait(lambda: self._refusals(id) > before)
        return [n for n in self.notices() if n.subscription == id][-1]

    def _refusals(self, id: str) -> int:
        return sum(1 for n in self.notices() if n.subscription == id)

    def follow(self) -> dict[str, set[str]]:
        """Apply every membership message received so far; the member set of each subscription."""
        for message in self.messages()[self._applied:]:
            if isinstance(message, ScopeMembers):
                held = self.members.setdefault(message.id, set())
                if message.members is not None:
                    held.clear()
                    held.update(message.members)
                held.update(message.added)
                held.difference_update(message.removed)
        self._applied = len(self.messages())
        return self.members

    async def wait_members(self, id: str, expected: Iterable[str], timeout: float = 5) -> None:
        wanted = set(expected)
        await self.socket.wait(lambda: self.follow().get(id) == wanted, timeout)

    async def wait(self, condition: Callable[[], bool], timeout: float = 5) -> None:
        """Until ``condition`` holds of what the socket received (checked whenever a frame arrives)."""
        await self.socket.wait(condition, timeout)

    async def finish(self) -> None:
        await self.conn.finish()


async def until(condition: Callable[[], bool], timeout: float = 5) -> None:
    """Until ``condition`` holds of the hub's state, which no frame announces."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)
