"""Probes: /readyz says why the hub cannot serve."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import AsyncTestClient

from server.app import create_app
from server.auth import JwtVerifier
from server.config import Settings
from sync.store import SqlStore
from tests.support.hub import free_port
from tests.support.inproc import SECRET, migrated_sqlite


async def test_ready_when_the_store_answers(tmp_path: Path) -> None:
    url = await migrated_sqlite(tmp_path / "hub.db")
    app = create_app(Settings(database_url=url), verifier=JwtVerifier(secret=SECRET))
    async with AsyncTestClient(app) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        response = await client.get("/readyz")
        assert response.status_code == 200 and response.json() == {"status": "ready", "bus": "ok"}


async def test_not_ready_when_the_store_is_unreachable(tmp_path: Path) -> None:
    unreachable = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    app = create_app(Settings(database_url=unreachable), verifier=JwtVerifier(secret=SECRET), store=SqlStore(unreachable))
    async with AsyncTestClient(app) as client:
        assert (await client.get("/healthz")).status_code == 200, "the process itself is alive"
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable" and response.json()["reason"]
