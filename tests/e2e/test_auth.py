"""Authorization before effect: tokens, tenants, readonly roles, and nothing processed before Auth."""

from __future__ import annotations

import pytest
from pycrdt import Map

from sync.protocol import AuthToken, Sync, SyncStep
from tests.support.client import Denied, HubClient
from tests.support.hub import HubProcess
from tests.support.stored import record_updates, stored_doc

NAME = "work_order:WO-7"


async def test_readonly_token_reads_but_its_updates_are_refused_and_not_stored(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    async with HubClient.connect(hub.ws_url) as writer:
        await writer.open(NAME, hub.token())
        assert await writer.set_fields(NAME, {"phase": "OPEN"})
    _, log_before = await stored_doc(hub.database_url, "acme", NAME)

    async with HubClient.connect(hub.ws_url) as viewer, HubClient.connect(hub.ws_url) as other:
        doc = await viewer.open(NAME, hub.token(sub="sup", device="web", roles=("viewer",)))
        assert viewer.frames[0].scope == "readonly"
        assert doc.get("record", type=Map).to_py() == {"phase": "OPEN"}
        await other.open(NAME, hub.token(device="other"))
        other_frames = len(other.frames)
        assert not await viewer.set_fields(NAME, {"phase": "CANCELLED"})
        notice = await viewer.wait_notice(NAME, "readonly")
        assert "read" in notice.message
        assert len(other.frames) == other_frames, "a refused update reached another subscriber"

    stored, log_after = await stored_doc(hub.database_url, "acme", NAME)
    assert log_after == log_before
    assert stored.get("record", type=Map).to_py() == {"phase": "OPEN"}


@pytest.mark.parametrize(
    ("make_token", "code"),
    [
        (lambda hub: "", "token_missing"),
        (lambda hub: "not-a-jwt", "token_invalid"),
        (lambda hub: hub.token()[:-4] + "AAAA", "token_invalid"),
        (lambda hub: hub.token(ttl_seconds=-120), "token_expired"),
        (lambda hub: hub.token(roles=("janitor",)), "forbidden"),
    ],
    ids=["missing", "garbage", "bad-signature", "expired", "no-role"],
)
async def test_bad_tokens_get_permission_denied_with_a_code(hub_on_store: HubProcess, make_token, code: str) -> None:
    hub = hub_on_store
    async with HubClient.connect(hub.ws_url) as client:
        with pytest.raises(Denied) as denied:
            await client.authenticate(NAME, make_token(hub))
        assert str(denied.value).startswith(f"{code}: ")


async def test_a_connection_serves_one_tenant_and_tenants_never_see_each_other(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    async with HubClient.connect(hub.ws_url) as client:
        await client.open(NAME, hub.token(tenant="acme"))
        assert await client.set_fields(NAME, {"secret": "acme only"})
        with pytest.raises(Denied) as denied:
            await client.authenticate("work_order:WO-8", hub.token(tenant="globex"))
        assert str(denied.value).startswith("tenant_mismatch: ")

    async with HubClient.connect(hub.ws_url) as intruder:
        doc = await intruder.open(NAME, hub.token(tenant="globex", device="g1"))
        assert doc.get("record", type=Map).to_py() == {}
    globex, _ = await stored_doc(hub.database_url, "globex", NAME)
    assert globex.get("record", type=Map).to_py() == {}


async def test_sync_frames_before_auth_are_held_and_dropped_when_auth_fails(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    _, updates = record_updates(1)
    async with HubClient.connect(hub.ws_url) as client:
        # the update arrives before any Auth: it must not be applied...
        await client.send_frame(Sync(NAME, SyncStep.UPDATE, updates[0]))
        # ...and a failed Auth refuses it explicitly
        with pytest.raises(Denied):
            await client.authenticate(NAME, hub.token(ttl_seconds=-120))
        await client.wait_acks(NAME, 1)
        assert client.statuses[NAME] == [False]
        await client.wait_notice(NAME, "not_authenticated")
    stored, log_length = await stored_doc(hub.database_url, "acme", NAME)
    assert log_length == 0 and stored.get("record", type=Map).to_py() == {}


async def test_frames_pipelined_behind_auth_are_processed_once_authenticated(hub: HubProcess) -> None:
    _, updates = record_updates(3)
    async with HubClient.connect(hub.ws_url) as client:
        await client.send_frame(AuthToken(NAME, hub.token()))
        for update in updates:
            await client.send_frame(Sync(NAME, SyncStep.UPDATE, update))
        await client.wait_acks(NAME, 3)
        assert client.statuses[NAME] == [True, True, True]
    stored, _ = await stored_doc(hub.database_url, "acme", NAME)
    assert stored.get("record", type=Map).to_py() == {"k0": 0, "k1": 1, "k2": 2}
