"""``fieldsync admin`` against a running hub process: what it prints and its exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.client import HubClient
from tests.support.hub import HubProcess, free_port

NAME = "work_order:WO-9"


def admin(hub: HubProcess, *args: str, token: str | None = None, url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
    env["FIELDSYNC_PORT"] = str(hub.port)
    if token is not None:
        env["FIELDSYNC_ADMIN_TOKEN"] = token
    command = [sys.executable, "-m", "server", "admin", *(["--url", url] if url else []), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


async def test_operators_list_revoke_restore_and_compact_from_the_command_line(hub: HubProcess) -> None:
    token = hub.token(sub="ops-1", device="console", roles=("admin",))
    tablet = hub.token(sub="tech-1", device="tablet-1")
    async with HubClient.connect(hub.ws_url) as client:
        await client.open(NAME, tablet)
        assert await client.set_fields(NAME, {"summary": "one"})
        assert await client.set_fields(NAME, {"summary": "two"})

        result = admin(hub, "connections", token=token)
        assert result.returncode == 0, result.stderr
        (connection,) = json.loads(result.stdout)["connections"]
        assert connection["device"] == "tablet-1" and connection["documents"] == [NAME]

        result = admin(hub, "devices", "--user", "tech-1", token=token)
        assert [d["device"] for d in json.loads(result.stdout)["devices"]] == ["tablet-1"]

        result = admin(hub, "compact", NAME, token=token)
        assert json.loads(result.stdout) == {"document": NAME, "folded": 2, "log_length": 0}

        result = admin(hub, "revoke", "tablet-1", token=token)
        assert result.returncode == 0 and json.loads(result.stdout)["closed"] == 1
        assert await client.wait_closed(1.0) == 4403

    result = admin(hub, "devices", "--revoked", token=token)
    assert [d["device"] for d in json.loads(result.stdout)["devices"]] == ["tablet-1"]
    assert admin(hub, "restore", "tablet-1", token=token).returncode == 0
    async with HubClient.connect(hub.ws_url) as client:
        assert await client.authenticate(NAME, tablet) == "read-write"

    refused = admin(hub, "revoke", "nobody", token=token)
    assert refused.returncode == 1 and refused.stderr.startswith("fieldsync: 404 device_not_found: ")
    denied = admin(hub, "counts", token=tablet)
    assert denied.returncode == 1 and denied.stderr.startswith("fieldsync: 403 forbidden: ")


def test_without_a_token_or_a_hub_the_command_says_so(hub: HubProcess) -> None:
    missing = admin(hub, "connections")
    assert missing.returncode == 2 and "--token or FIELDSYNC_ADMIN_TOKEN" in missing.stderr
    gone = admin(hub, "connections", token="t", url=f"http://127.0.0.1:{free_port()}")
    assert gone.returncode == 3 and gone.stderr.startswith("fieldsync: no answer from ")
