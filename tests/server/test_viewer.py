"""The viewer's page, script and bundle as the hub serves them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

import server.viewer
from server.app import create_app
from server.auth import JwtVerifier
from server.config import Settings
from tests.support.inproc import SECRET, migrated_sqlite


async def client(tmp_path: Path) -> AsyncTestClient:
    url = await migrated_sqlite(tmp_path / "hub.db")
    return AsyncTestClient(create_app(Settings(database_url=url), verifier=JwtVerifier(secret=SECRET)))


async def test_the_page_carries_the_domain_and_loads_only_the_hubs_own_scripts(tmp_path: Path) -> None:
    async with await client(tmp_path) as http:
        response = await http.get("/")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        page = response.text
        domain = json.loads(re.search(r'<script type="application/json" id="domain">(.*?)</script>', page, re.S)[1])
        assert "IN_REVIEW" in domain["statuses"]["warranty_claim"] and "supervisor" in domain["reviewer_roles"]
        assert re.findall(r'src="([^"]+)"', page) == ["/viewer/app.js"], "no CDN, nothing from another origin"
        script = await http.get("/viewer/app.js")
        assert script.status_code == 200 and 'from "/viewer/sync-client.js"' in script.text
        assert (await http.get("/viewer/style.css")).status_code == 200
        assert (await http.get("/viewer/missing.js")).status_code == 404


async def test_the_bundle_is_served_when_built_and_explained_when_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert server.viewer.BUNDLE.is_file(), "bin/setup builds server/viewer/build/sync-client.js (npm is required)"
    async with await client(tmp_path) as http:
        response = await http.get("/viewer/sync-client.js")
        assert response.status_code == 200 and "javascript" in response.headers["content-type"]
        assert "HocuspocusProvider" in response.text or len(response.content) > 50_000
        monkeypatch.setattr(server.viewer, "BUNDLE", tmp_path / "nothing.js")
        missing = await http.get("/viewer/sync-client.js")
        assert missing.status_code == 503 and "run bin/setup" in missing.text
