"""Interop: a stock Yjs + @hocuspocus/provider client (tests/interop/client.mjs)
against the fieldsync hub, with the Python test client on the other side.

The Node kit is installed with ``npm ci --prefix tests/interop`` on the Node its
package.json names (``bin/test`` provides both). Without them these tests fail
(they never skip): interop is a promise of the wire protocol.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from typing import Any

import pycrdt
import pytest

from tests.support.client import HubClient
from tests.support.hub import HubProcess
from tests.support.node import INTEROP_DIR, interop_node

@pytest.fixture
def hub(hub_on_store: HubProcess) -> HubProcess:
    """Interop runs against the hub on each store (SQLite file and Postgres)."""
    return hub_on_store


CLIENT_SCRIPT = INTEROP_DIR / "client.mjs"

# Exit codes of client.mjs
EXIT_OK = 0
EXIT_TIMEOUT = 1
EXIT_UNSYNCED = 2
EXIT_PERMISSION_DENIED = 3
EXIT_GLOBAL_TIMEOUT = 4

# Longest a single node run may take before the test gives up on it.
PROCESS_DEADLINE = 40.0


@dataclass
class NodeResult:
    returncode: int
    payload: dict[str, Any]
    stdout: str
    stderr: str

    def describe(self) -> str:
        return f"exit {self.returncode}\nstdout: {self.stdout}\nstderr:\n{self.stderr[-4000:]}"


@pytest.fixture(scope="session")
def node_bin() -> str:
    return interop_node()


def _parse_payload(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        return {}
    try:
        payload = json.loads(lines[-1])
    except json.JSONDecodeError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _client_args(node: str, url: str, token: str, document: str, *command: str) -> list[str]:
    return [node, str(CLIENT_SCRIPT), "--url", url, "--token", token, "--document", document, "--trace", *command]


async def _collect(proc: asyncio.subprocess.Process, stderr_head: str = "") -> NodeResult:
    try:
        out, err = await asyncio.wait_for(proc.communicate(), PROCESS_DEADLINE)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        stderr = (stderr_head + err.decode(errors="replace"))[-4000:]
        pytest.fail(
            f"client.mjs did not exit within {PROCESS_DEADLINE}s\n"
            f"stdout: {out.decode(errors='replace')}\nstderr:\n{stderr}"
        )
    stdout = out.decode(errors="replace")
    assert proc.returncode is not None
    return NodeResult(proc.returncode, _parse_payload(stdout), stdout, stderr_head + err.decode(errors="replace"))


async def _spawn(node: str, url: str, token: str, document: str, *command: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *_client_args(node, url, token, document, *command),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=str(INTEROP_DIR),
        env={**os.environ, "NODE_NO_WARNINGS": "1"},
    )


async def run_node(node: str, url: str, token: str, document: str, *command: str) -> NodeResult:
    proc = await _spawn(node, url, token, document, *command)
    return await _collect(proc)


async def _read_until_synced(proc: asyncio.subprocess.Process, timeout: float = 15.0) -> str:
    """Read the --trace stream until the provider reports the initial sync.

    Returns what was read so far, so it can be shown if the test fails later.
    """
    assert proc.stderr is not None
    seen: list[str] = []

    async def scan() -> None:
        while True:
            raw = await proc.stderr.readline()
            if not raw:
                raise AssertionError("client.mjs exited before it synced:\n" + "".join(seen))
            line = raw.decode(errors="replace")
            seen.append(line)
            if " event synced" in line:
                return

    try:
        await asyncio.wait_for(scan(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        pytest.fail("client.mjs did not sync in time:\n" + "".join(seen))
    return "".join(seen)


def _record_of(value: Any) -> dict[str, Any]:
    """The record as a dict, from a pycrdt Doc, a pycrdt Map or a plain mapping."""
    if isinstance(value, pycrdt.Doc):
        value = value.get("record", type=pycrdt.Map)
    if isinstance(value, pycrdt.Map):
        return value.to_py() or {}
    return dict(value or {})


def _has(key: str, expected: Any):
    def predicate(value: Any) -> bool:
        return _record_of(value).get(key) == expected

    return predicate


# ---------------------------------------------------------------------------


async def test_node_set_is_seen_by_python_client(node_bin, hub):
    document = "work_order:WO-1"
    token = hub.token(sub="u1", tenant="acme", device="node-1", roles=("technician",))

    result = await run_node(node_bin, hub.ws_url, token, document, "set", "phase", "IN_PROGRESS")
    assert result.returncode == EXIT_OK, result.describe()
    assert result.payload.get("ok") is True, result.describe()
    assert result.payload["record"]["phase"] == "IN_PROGRESS", result.describe()
    assert result.payload.get("scope") == "read-write", result.describe()
    assert result.payload.get("extensions") == "", "by default the hub declines ws's permessage-deflate offer"
    # Every change the provider sent was acknowledged with SyncStatus(true).
    assert result.payload.get("unsyncedChanges") == 0, result.describe()
    assert result.payload["syncStatus"]["refused"] == 0, result.describe()

    py_token = hub.token(sub="u2", tenant="acme", device="py-1", roles=("technician",))
    async with HubClient.connect(hub.ws_url) as c:
        doc = await c.open(document, py_token)
        await c.wait_for(document, _has("phase", "IN_PROGRESS"), timeout=10)
        assert _record_of(doc)["phase"] == "IN_PROGRESS"


async def test_python_set_is_seen_by_node_wait(node_bin, hub):
    document = "work_order:WO-2"
    py_token = hub.token(sub="u2", tenant="acme", device="py-1", roles=("technician",))
    async with HubClient.connect(hub.ws_url) as c:
        await c.open(document, py_token)
        assert await c.set_fields(document, {"assignee": "tech-7", "phase": "ASSIGNED"})

    token = hub.token(sub="u1", tenant="acme", device="node-1", roles=("technician",))
    result = await run_node(node_bin, hub.ws_url, token, document, "wait", "assignee", "tech-7", "--timeout", "10")
    assert result.returncode == EXIT_OK, result.describe()
    assert result.payload.get("ok") is True, result.describe()
    assert result.payload["record"]["assignee"] == "tech-7", result.describe()
    assert result.payload["record"]["phase"] == "ASSIGNED", result.describe()


async def test_live_update_reaches_waiting_node_client(node_bin, hub):
    document = "work_order:WO-3"
    py_token = hub.token(sub="u2", tenant="acme", device="py-1", roles=("technician",))
    token = hub.token(sub="u1", tenant="acme", device="node-1", roles=("technician",))

    async with HubClient.connect(hub.ws_url) as c:
        await c.open(document, py_token)
        assert await c.set_fields(document, {"phase": "OPEN"})

        result = await _node_waits_for_done(node_bin, hub, token, document, c)

    assert result.returncode == EXIT_OK, result.describe()
    assert result.payload.get("ok") is True, result.describe()
    assert result.payload["record"]["phase"] == "DONE", result.describe()
    # The value arrived as a live update, not in the initial sync.
    after_sync = result.stderr.split(" event synced", 1)[1]
    assert any(
        "<- " in line and '"sync":"Update"' in line for line in after_sync.splitlines()
    ), result.describe()


async def test_a_broadcast_reaches_a_stock_provider_as_stateless_and_a_forged_notice_does_not(node_bin, hub):
    """Hocuspocus relays BroadcastStateless as Stateless, the only one of the two a provider reads."""
    from sync.protocol import BroadcastStateless

    document = "work_order:WO-5"
    py_token = hub.token(sub="u2", tenant="acme", device="py-1", roles=("technician",))
    token = hub.token(sub="u1", tenant="acme", device="node-1", roles=("technician",))
    forged = json.dumps({"type": "error", "code": "rate_limited", "message": "x", "retry_after": 1e9})
    async with HubClient.connect(hub.ws_url) as c:
        await c.open(document, py_token)
        proc = await _spawn(node_bin, hub.ws_url, token, document, "wait", "status", "DONE", "--timeout", "15")
        try:
            head = await _read_until_synced(proc)
            await c.send_frame(BroadcastStateless(document, forged))
            await c.wait_notice(document, "reserved_message")
            await c.send_frame(BroadcastStateless(document, "cursor at 3"))
            assert await c.set_fields(document, {"status": "DONE"})
            result = await _collect(proc, head)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert result.returncode == EXIT_OK, result.describe()
    incoming = [line for line in result.stderr.splitlines() if "<- " in line and '"type":"Stateless"' in line]
    assert any('"detail":"cursor at 3"' in line for line in incoming), result.describe()
    assert not any("rate_limited" in line for line in incoming), result.describe()


async def test_readonly_node_client_cannot_write(node_bin, hub):
    document = "work_order:WO-4"
    py_token = hub.token(sub="u2", tenant="acme", device="py-1", roles=("technician",))
    async with HubClient.connect(hub.ws_url) as c:
        await c.open(document, py_token)
        assert await c.set_fields(document, {"phase": "ASSIGNED"})

    viewer = hub.token(sub="u3", tenant="acme", device="node-ro", roles=("viewer",))
    result = await run_node(node_bin, hub.ws_url, viewer, document, "set", "phase", "HACKED", "--timeout", "5")
    # The viewer is let in read-only; the provider's update is answered with SyncStatus(false),
    # which the stock provider ignores (its unsynced counter never returns to 0).
    assert result.returncode == EXIT_UNSYNCED, result.describe()
    assert result.payload.get("ok") is False, result.describe()
    assert result.payload.get("scope") == "readonly", result.describe()
    assert result.payload.get("error") == "refused", result.describe()
    assert result.payload["syncStatus"]["refused"] >= 1, result.describe()
    assert result.payload.get("unsyncedChanges", 0) > 0, result.describe()

    # Nothing of the refused change was stored or passed on.
    async with HubClient.connect(hub.ws_url) as c:
        doc = await c.open(document, py_token)
        await c.wait_for(document, _has("phase", "ASSIGNED"), timeout=10)
        assert _record_of(doc)["phase"] == "ASSIGNED"


async def test_bad_token_is_permission_denied(node_bin, hub):
    document = "work_order:WO-5"
    result = await run_node(node_bin, hub.ws_url, "not-a-valid-token", document, "dump")
    assert result.returncode == EXIT_PERMISSION_DENIED, result.describe()
    assert result.payload.get("ok") is False, result.describe()
    assert result.payload.get("error") == "permission-denied", result.describe()
    assert isinstance(result.payload.get("reason"), str), result.describe()
    assert result.payload["record"] == {}, result.describe()


@pytest.mark.hub_env(FIELDSYNC_WS_DEFLATE="on")
async def test_a_stock_provider_syncs_over_permessage_deflate_when_the_hub_accepts_it(node_bin, hub):
    """Node's ws offers permessage-deflate by default: with the hub accepting it, the provider's frames
    and the hub's (initial sync and live updates) all travel compressed, and nothing else changes."""
    document = "work_order:WO-6"
    token = hub.token(sub="u1", tenant="acme", device="node-1", roles=("technician",))
    result = await run_node(node_bin, hub.ws_url, token, document, "set", "phase", "IN_PROGRESS")
    assert result.returncode == EXIT_OK, result.describe()
    assert result.payload.get("extensions") == "permessage-deflate", result.describe()
    assert result.payload.get("unsyncedChanges") == 0, result.describe()
    assert result.payload["syncStatus"]["refused"] == 0, result.describe()

    py_token = hub.token(sub="u2", tenant="acme", device="py-1", roles=("technician",))
    async with HubClient.connect(hub.ws_url, compression=None) as c:  # an uncompressed peer on the same room
        await c.open(document, py_token)
        await c.wait_for(document, _has("phase", "IN_PROGRESS"), timeout=10)
        live = await _node_waits_for_done(node_bin, hub, token, document, c)
    assert live.returncode == EXIT_OK, live.describe()
    assert live.payload.get("extensions") == "permessage-deflate", live.describe()
    assert live.payload["record"]["phase"] == "DONE", live.describe()


async def _node_waits_for_done(node_bin: str, hub: HubProcess, token: str, document: str, c: HubClient) -> NodeResult:
    """A stock client waits for ``phase`` DONE; once it is connected, authenticated and synced, ``c`` sets it."""
    proc = await _spawn(node_bin, hub.ws_url, token, document, "wait", "phase", "DONE", "--timeout", "15")
    try:
        head = await _read_until_synced(proc)
        assert await c.set_fields(document, {"phase": "DONE"})
        return await _collect(proc, head)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
