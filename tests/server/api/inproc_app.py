"""The app and a hub in the test's own event loop: the store, hub and cache are started here and the app is
called through httpx's ASGI transport, so hub sessions, merges and store queries can be observed directly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from pycrdt import Doc

from conflict import Hlc, write_field
from server.api import AnswerCache
from server.app import create_app
from server.auth import JwtVerifier
from server.config import Settings
from sync import Cache, Hub
from sync.protocol import Sync, SyncStep
from tests.support.inproc import OPEN_ACCESS_FILE, SECRET, Connection, token

SUP = {"Authorization": f"Bearer {token('sup', roles=('supervisor',))}"}


def bearer(sub: str, *roles: str, tenant: str = "acme") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(sub, tenant=tenant, roles=roles)}"}


@dataclass
class Running:
    hub: Hub
    http: httpx.AsyncClient
    answers: AnswerCache

    async def get(self, path: str, headers: dict[str, str] = SUP) -> Any:
        response = await self.http.get(path, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def merge(self, name: str, field: str, value: Any) -> None:
        """One ordinary write through a hub session, committed, projected, and its invalidations landed."""
        conn = Connection(self.hub)
        await conn.open(name, token("u1", device="d1", roles=("supervisor",)))
        doc = Doc()
        write_field(doc, field, value, clock=Hlc("d1"), user="u1", roles=("supervisor",))
        conn.socket.push(Sync(name, SyncStep.UPDATE, doc.get_update()))
        await conn.socket.wait(lambda: conn.socket.statuses(name) == [True])
        await self.hub.flush_projections()
        await conn.finish()
        async with asyncio.timeout(15):
            while self.answers.invalidation.pending("acme"):  # the tenant of the session's token
                await asyncio.sleep(0.01)


@asynccontextmanager
async def running(url: str, cache: Cache) -> AsyncIterator[Running]:
    app = create_app(Settings(database_url=url, access_file=str(OPEN_ACCESS_FILE)), verifier=JwtVerifier(secret=SECRET), cache=cache)
    hub: Hub = app.state.hub
    await hub.store.start()
    await cache.start()
    await app.state.admin.start()  # what the app's lifespan does: read the revoked devices before any token
    try:
        async with hub.running():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as http:
                yield Running(hub, http, app.state.answers)
    finally:
        await cache.close()
        await hub.store.close()


