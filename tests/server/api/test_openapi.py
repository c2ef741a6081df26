"""The generated OpenAPI document: fieldsync's title and version, a description for every route and parameter."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

from litestar.testing import AsyncTestClient

from server.app import create_app
from server.auth import JwtVerifier
from server.config import Settings
from tests.server.api.conftest import SECRET
from tests.support.inproc import migrated_sqlite


async def app_client(tmp_path: Path, environment: str) -> AsyncTestClient:
    url = await migrated_sqlite(tmp_path / "hub.db")
    app = create_app(Settings(database_url=url, environment=environment, jwt_secret=SECRET),
                     verifier=JwtVerifier(secret=SECRET))
    return AsyncTestClient(app)


async def test_every_api_route_and_parameter_is_described(tmp_path: Path) -> None:
    async with await app_client(tmp_path, "development") as client:
        schema = (await client.get("/schema/openapi.json")).json()
        swagger = await client.get("/schema/swagger")
        assert swagger.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', swagger.text)
        assert assets and all(url.startswith("/viewer/swagger/") for url in assets), "nothing from a CDN"
        for url in assets:
            assert (await client.get(url)).status_code == 200, url
    assert schema["info"]["title"] == "fieldsync" and schema["info"]["version"] == version("fieldsync")
    assert schema["info"]["description"]
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    operations = [(path, op) for path, item in schema["paths"].items() if path.startswith("/api/")
                  for op in item.values()]
    assert len(operations) >= 9
    for path, operation in operations:
        assert operation.get("description"), path
        for parameter in operation.get("parameters", []):
            assert parameter.get("description"), (path, parameter["name"])
    listed = {p["name"] for p in schema["paths"]["/api/records"]["get"]["parameters"]}
    assert listed == {"type", "status", "assignee", "team", "due_before", "overdue", "updated_since", "q", "fields",
                      "sort", "limit", "cursor"}


async def test_production_serves_the_document_but_no_documentation_pages(tmp_path: Path) -> None:
    async with await app_client(tmp_path, "production") as client:
        assert (await client.get("/schema/swagger")).status_code == 404
        assert (await client.get("/schema/openapi.yaml")).status_code == 200
