"""An app with the REST API on a real store (each backend), and tokens for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from tests.support.inproc import OPEN_ACCESS_FILE
from server.auth import JwtVerifier, mint_token
from server.config import Settings
from sync.store import SqlStore

SECRET = "rest-api-test-secret-0123456789abcdef-0123"
TENANT = "acme"


def bearer(
    sub: str = "sup", roles: Sequence[str] = ("supervisor",), tenant: str = TENANT, ttl: int = 3600
) -> dict[str, str]:
    token = mint_token(SECRET, sub=sub, tenant=tenant, device=f"{sub}-browser", roles=list(roles), ttl_seconds=ttl)
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Api:
    client: AsyncTestClient
    store: SqlStore
    """The test's own store on the app's database (the app runs on another event loop, with its own)."""
    url: str


@pytest.fixture
async def api(store_url: str) -> AsyncIterator[Api]:
    """The app on a migrated database of each backend, with its store started by the app's lifespan."""
    app = create_app(Settings(database_url=store_url, access_file=str(OPEN_ACCESS_FILE)), verifier=JwtVerifier(secret=SECRET))
    store = SqlStore(store_url)
    await store.start()
    try:
        async with AsyncTestClient(app) as client:
            yield Api(client, store, store_url)
    finally:
        await store.close()
