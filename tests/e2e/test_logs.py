"""A real hub process's log: JSON lines with the documented fields, never a token, never a record's content."""

from __future__ import annotations

import json

import pytest

from tests.support.client import Denied, HubClient
from tests.support.hub import HubProcess
from tests.support.http import call

NAME = "work_order:WO-5"
CONTENT = "customer gate code 4711, key under the mat"
BASE_FIELDS = {"time", "level", "logger", "message", "node"}


@pytest.mark.hub_env(FIELDSYNC_LOG_FORMAT="json", FIELDSYNC_LOG_LEVEL="info")
async def test_a_connections_log_lines_are_json_with_its_identity_and_no_secret(hub: HubProcess) -> None:
    token = hub.token(sub="tech-4", device="tablet-4")
    expired = hub.token(sub="tech-4", device="tablet-4", ttl_seconds=-120)
    admin = hub.token(sub="ops-1", device="console", roles=("admin",))
    async with HubClient.connect(hub.ws_url) as client:
        await client.open(NAME, token)
        assert await client.set_fields(NAME, {"summary": CONTENT})
        with pytest.raises(Denied):
            await client.authenticate("work_order:WO-6", expired)
    assert (await call(hub.http_url + "/admin/connections", token=admin))[0] == 200
    assert (await call(hub.http_url + "/admin/connections", token=admin + "x"))[0] == 401
    assert hub.terminate() == 0

    text = hub.log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is one JSON object
    assert all(BASE_FIELDS <= line.keys() for line in lines), [line for line in lines if not BASE_FIELDS <= line.keys()]
    node = lines[0]["node"]
    assert node != "-" and all(line["node"] == node for line in lines)
    assert {line["logger"] for line in lines} >= {"sync.connections", "sync.refusals", "uvicorn.error"}

    opened = [line for line in lines if line.get("event") == "connection_opened"]
    closed = [line for line in lines if line.get("event") == "connection_closed"]
    refused = [line for line in lines if line.get("event") == "refused"]
    assert len(opened) == 1 and opened[0]["level"] == "info" and opened[0]["connection"].startswith(node + "-")
    (gone,) = [line for line in closed if line["connection"] == opened[0]["connection"]]
    assert (gone["tenant"], gone["user"], gone["device"], gone["level"]) == ("acme", "tech-4", "tablet-4", "info")
    (refusal,) = refused
    assert refusal["code"] == "token_expired" and refusal["document"] == "work_order:WO-6"
    assert refusal["connection"] == opened[0]["connection"] and refusal["level"] == "info"

    for secret in (token, expired, admin, *token.split("."), *admin.split(".")[1:], CONTENT, "4711"):
        assert secret not in text


@pytest.mark.hub_env(FIELDSYNC_LOG_LEVEL="info")
async def test_development_logs_are_readable_text_with_the_same_fields(hub: HubProcess) -> None:
    async with HubClient.connect(hub.ws_url) as client:
        await client.open(NAME, hub.token(sub="tech-4", device="tablet-4"))
    assert hub.terminate() == 0
    lines = hub.log.read_text().splitlines()
    (closed,) = [line for line in lines if " sync.connections: connection " in line and " closed " in line]
    assert "tenant=acme user=tech-4 device=tablet-4" in closed and closed.split()[2] == "INFO"
