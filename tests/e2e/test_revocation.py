"""Revoking a device on a real hub process, on both stores: cut off at once, refused until restored, across a restart."""

from __future__ import annotations

import asyncio
import time

import pytest
from pycrdt import Doc, Map

from tests.support.client import Denied, HubClient
from tests.support.hub import HubProcess
from tests.support.http import call

NAME = "work_order:WO-7"


async def test_a_revoked_device_is_closed_within_a_second_refused_after_a_restart_and_let_in_once_restored(
    hub_on_store: HubProcess,
) -> None:
    hub = hub_on_store
    admin = hub.token(sub="ops-1", device="console", roles=("admin",))
    lost = hub.token(sub="tech-1", device="tablet-lost")
    other = hub.token(sub="tech-2", device="tablet-ok")
    async with HubClient.connect(hub.ws_url) as tablet, HubClient.connect(hub.ws_url) as colleague:
        await tablet.open(NAME, lost)
        await colleague.open(NAME, other)
        assert await tablet.set_fields(NAME, {"summary": "before the loss"})

        started = time.monotonic()
        status, answer = await call(f"{hub.http_url}/admin/devices/tablet-lost/revoke", "POST", token=admin)
        assert status == 200, answer
        assert answer["closed"] == 1 and answer["device"]["revoked"] and answer["device"]["revoked_by"] == "ops-1"
        assert await tablet.wait_closed(1.0) == 4403
        assert time.monotonic() - started < 1.5  # the request's round trip plus the close
        assert tablet.close_reason.startswith("device_revoked: ")
        # the colleague's socket is untouched
        assert await colleague.set_fields(NAME, {"priority": "HIGH"})

    async with HubClient.connect(hub.ws_url) as again:
        with pytest.raises(Denied, match=r"^device_revoked: "):
            await again.authenticate(NAME, lost)

    hub.terminate()
    hub.start()  # the revocation is in the store: a restarted hub refuses the device too
    offline = Doc()
    async with HubClient.connect(hub.ws_url) as again:
        with pytest.raises(Denied, match=r"^device_revoked: "):
            await again.authenticate(NAME, lost)
    status, listed = await call(f"{hub.http_url}/admin/devices?revoked=true", token=admin)
    assert [d["device"] for d in listed["devices"]] == ["tablet-lost"]

    status, answer = await call(f"{hub.http_url}/admin/devices/tablet-lost/restore", "POST", token=admin)
    assert status == 200 and not answer["device"]["revoked"] and answer["closed"] == 0
    # an edit made while revoked (kept on the device) goes through once restored
    offline.get("record", type=Map)["note_while_revoked"] = "kept on the tablet"
    async with HubClient.connect(hub.ws_url) as back:
        doc = await back.open(NAME, lost, doc=offline)
        assert back.statuses[NAME] == [True]
        assert doc.get("record", type=Map).to_py()["priority"] == "HIGH"
    async with HubClient.connect(hub.ws_url) as reader:
        doc = await reader.open(NAME, other)
        assert doc.get("record", type=Map).to_py()["note_while_revoked"] == "kept on the tablet"


async def test_revoking_or_restoring_a_device_never_seen_is_refused(hub: HubProcess) -> None:
    admin = hub.token(sub="ops-1", device="console", roles=("admin",))
    for action in ("revoke", "restore"):
        status, answer = await call(f"{hub.http_url}/admin/devices/ghost/{action}", "POST", token=admin)
        assert (status, answer["code"]) == (404, "device_not_found")


async def test_a_device_that_connected_a_moment_ago_can_be_revoked(hub: HubProcess) -> None:
    """The device table is written in batches; a revoke writes the pending batch first."""
    admin = hub.token(sub="ops-1", device="console", roles=("admin",))
    async with HubClient.connect(hub.ws_url) as tablet:
        await tablet.open(NAME, hub.token(device="brand-new"))
        status, answer = await call(f"{hub.http_url}/admin/devices/brand-new/revoke", "POST", token=admin)
        assert status == 200 and answer["closed"] == 1
        assert await asyncio.wait_for(tablet.wait_closed(1.0), 2) == 4403
