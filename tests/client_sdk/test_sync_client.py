"""The sync client against a real hub process: state and events, refusals, coalescing, heartbeat."""

from __future__ import annotations

import asyncio
import time

import pytest

from pycrdt import Map

from client_sdk import (
    Acknowledged, AuthRejected, ChangeOrigin, ClientError, Connected, DocumentSynced, ErrorReported, RecordChange,
    StateChanged, SyncConfig, SyncFailed, SyncState, SyncTimeout,
)
from tests.client_sdk.devices import Device, Devices, eventually
from tests.client_sdk.scripted_hub import ScriptedHub
from tests.client_sdk.netproxy import proxy_to
from tests.support.hub import HubProcess
from tests.support.stored import stored_doc

WO = "work_order:WO-1"


async def test_a_record_travels_both_ways_and_the_client_reports_each_step(hub: HubProcess, devices: Devices) -> None:
    a = await devices.make(hub, "dev-a")
    await a.records.create("work_order", "WO-1", {"status": "OPEN", "technician": "tech-17"})
    assert a.client.state is SyncState.OFFLINE and a.client.pending == 1
    await a.sync()
    states = [(e.old, e.new) for e in a.events if isinstance(e, StateChanged)]
    assert states == [(SyncState.OFFLINE, SyncState.CONNECTING), (SyncState.CONNECTING, SyncState.SYNCING),
                      (SyncState.SYNCING, SyncState.SYNCED)]
    assert [type(e) for e in a.events if isinstance(e, (Connected, Acknowledged, DocumentSynced))] == [
        Connected, Acknowledged, DocumentSynced]
    status = a.client.status
    assert (status.state, status.pending, status.documents, status.synced_documents) == (SyncState.SYNCED, 0, 1, 1)
    stored, _ = await stored_doc(hub.database_url, "acme", WO)
    record = stored.get("record", type=Map).to_py()
    assert (record["status"], record["technician"]) == ("OPEN", "tech-17")

    b = await devices.make(hub, "dev-b")
    remote: list[RecordChange] = []
    b.records.on_change(remote.append)
    await b.replica.follow(WO)
    await b.sync()
    assert (await b.records.open(WO)).assignee == "tech-17"
    assert [c.origin for c in remote] == [ChangeOrigin.REMOTE]

    await b.records.set(WO, status="IN_PROGRESS")
    assert b.client.state is SyncState.SYNCING and b.client.pending == 1, "an unacknowledged edit is pending"
    await b.client.wait_synced(10)
    await eventually(lambda: _status_is(a, "IN_PROGRESS"))


async def _status_is(device: Device, status: str) -> bool:
    return (await device.records.open(WO)).status == status


async def test_a_document_followed_while_online_is_opened_on_the_same_socket(hub: HubProcess, devices: Devices) -> None:
    office = await devices.make(hub, "office", roles=("supervisor",))
    tablet = await devices.make(hub, "tablet")
    await office.records.create("work_order", "WO-1", {"status": "OPEN"})
    await office.records.create("work_order", "WO-2", {"status": "OPEN"})
    await office.sync()
    await tablet.replica.follow("work_order:WO-1")
    await tablet.sync()
    await tablet.replica.follow("work_order:WO-2")
    await tablet.client.wait_synced(10)
    assert (await tablet.records.open("work_order:WO-2")).status == "OPEN"
    assert sum(isinstance(e, Connected) for e in tablet.events) == 1


async def test_a_refused_token_is_reported_once_and_never_retried(hub: HubProcess, devices: Devices) -> None:
    for token, code in [(hub.token(device="d", ttl_seconds=-60), "token_expired"),
                        ("not-a-jwt", "token_invalid"),
                        (hub.token(device="d", roles=("nobody",)), "forbidden")]:
        device = await devices.make(hub, f"dev-{code}", token=token)
        await device.records.create("work_order", f"WO-{code}", {"status": "OPEN"})
        device.client.start()
        await device.client.wait_for(lambda c: not c.running, 10)
        await asyncio.sleep(0.3)  # a retry loop would show up here
        assert device.client.state is SyncState.OFFLINE
        error = device.client.last_error
        assert error is not None and error.code == code and error.fatal
        assert sum(isinstance(e, Connected) for e in device.events) == 1, "no second attempt"
        assert device.client.pending == 1, "the edit is kept for when a good token comes"

        device.client.set_token(hub.token(device=device.name))
        await device.client.wait_synced(10)
        assert device.client.pending == 0


async def test_rapid_edits_become_one_outbox_entry_and_one_frame(hub: HubProcess, devices: Devices) -> None:
    a = await devices.make(hub, "dev-a", coalesce_ms=300)
    await a.records.create("work_order", "WO-1", {"status": "OPEN"})
    await a.sync()
    _, log_before = await stored_doc(hub.database_url, "acme", WO)
    frames_before = a.client.traffic.frames_sent
    for i in range(10):
        await a.records.set(WO, {f"reading_{i}": i})
    assert len(await a.replica.pending()) == 1
    await a.client.wait_synced(10)
    assert a.client.traffic.frames_sent - frames_before == 1, "ten edits, one update frame"
    stored, log_after = await stored_doc(hub.database_url, "acme", WO)
    assert log_after == log_before + 1
    assert all(stored.get("record", type=Map).to_py()[f"reading_{i}"] == i for i in range(10))


async def test_an_entry_sealed_while_the_sender_was_busy_is_still_sent(hub: HubProcess, devices: Devices) -> None:
    a = await devices.make(hub, "dev-a", coalesce_ms=200)
    await a.records.create("work_order", "WO-1", {"status": "OPEN"})
    await a.sync()
    unsealed = a.replica.sendable

    async def slow_sendable(name: str, after: int = 0, *, force: bool = False) -> list:
        entries = await unsealed(name, after, force=force)
        if not entries:
            await asyncio.sleep(0.3)  # the entry's window passes while the sender is still busy
        return entries

    a.replica.sendable = slow_sendable  # type: ignore[method-assign]
    await a.records.set(WO, status="IN_PROGRESS")
    await a.client.wait_synced(5)
    stored, _ = await stored_doc(hub.database_url, "acme", WO)
    assert stored.get("record", type=Map).to_py()["status"] == "IN_PROGRESS"


async def test_a_readonly_refusal_keeps_the_edits_and_reports_it(hub: HubProcess, devices: Devices) -> None:
    office = await devices.make(hub, "office", roles=("supervisor",))
    await office.records.create("work_order", "WO-1", {"status": "OPEN"})
    await office.sync()
    viewer = await devices.make(hub, "viewer", roles=("viewer",))
    await viewer.replica.follow(WO)
    await viewer.sync()
    await viewer.records.set(WO, status="CLOSED")
    await viewer.client.wait_for(lambda c: c.last_error is not None and c.last_error.code == "readonly", 10)
    sent = viewer.client.traffic.frames_sent
    await asyncio.sleep(0.5)
    assert viewer.client.traffic.frames_sent == sent, "no resend loop for a refusal that cannot change"
    assert viewer.client.pending == 1 and viewer.client.state is SyncState.SYNCING
    stored, _ = await stored_doc(hub.database_url, "acme", WO)
    assert stored.get("record", type=Map).to_py()["status"] == "OPEN"
    assert any(isinstance(e, ErrorReported) and e.error.document == WO for e in viewer.events)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_heartbeat_pings_a_quiet_link_and_replaces_a_dead_one(hub: HubProcess, devices: Devices) -> None:
    clock = FakeClock()
    config = SyncConfig(backoff_base=0.05, backoff_cap=0.2, connect_timeout=1.0)  # heartbeat 25 s / 60 s
    async with proxy_to(hub.port) as proxy:
        a = await devices.make(hub, "dev-a", url=proxy.url(), config=config, clock=clock)
        await a.records.create("work_order", "WO-1", {"status": "OPEN"})
        await a.sync()

        clock.now += 26  # 26 s of silence: the client pings, the hub answers, the link lives
        await eventually(lambda: a.client.traffic.pings_sent == 1, 5)
        clock.now += 40  # 66 s since the last frame before the ping, but the Pong came back meanwhile
        await asyncio.sleep(1.5)
        assert sum(isinstance(e, Connected) for e in a.events) == 1

        proxy.blackholed = True  # the link goes silent without closing, as a dead mobile network does
        clock.now += 61
        await a.client.wait_for(lambda c: c.state is SyncState.OFFLINE, 5)
        assert a.client.last_error is not None
        assert any(isinstance(e, ErrorReported) and e.error.code == "link_dead" for e in a.events)
        proxy.blackholed = False
        await a.records.set(WO, status="IN_PROGRESS")
        await a.client.wait_synced(10)
        assert sum(isinstance(e, Connected) for e in a.events) >= 2
    stored, _ = await stored_doc(hub.database_url, "acme", WO)
    assert stored.get("record", type=Map).to_py()["status"] == "IN_PROGRESS"


@pytest.mark.hub_env(FIELDSYNC_MESSAGES_PER_SECOND=100, FIELDSYNC_MESSAGE_BURST=20)
async def test_documents_refused_by_the_rate_limit_are_opened_again_later(hub: HubProcess, devices: Devices) -> None:
    office = await devices.make(hub, "office", roles=("supervisor",))
    names = [f"work_order:WO-{i}" for i in range(30)]
    for i in range(30):
        await office.records.create("work_order", f"WO-{i}", {"status": "OPEN"})
    await office.sync(30)  # 30 Auth + 30 step 1 + 30 step 2 + 30 updates: far over a burst of 20
    assert any(isinstance(e, ErrorReported) and e.error.code == "rate_limited" for e in office.events)
    tablet = await devices.make(hub, "tablet")
    await tablet.replica.follow(*names)
    await tablet.sync(30)
    assert [v.status for v in await tablet.records.query(type="work_order")] == ["OPEN"] * 30


async def test_a_document_the_role_may_not_open_is_denied_alone(hub: HubProcess, devices: Devices) -> None:
    tablet = await devices.make(hub, "tablet")
    await tablet.records.create("warranty_claim", "WC-1", {"status": "SUBMITTED", "claim_number": "C-1"})
    await tablet.sync()
    customer = await devices.make(hub, "customer-app", roles=("customer",))
    await customer.replica.follow("warranty_claim:WC-1", "warranty_claim:WC-1/internal")
    customer.client.start()
    await eventually(lambda: any(isinstance(e, DocumentSynced) for e in customer.events), 10)
    await eventually(lambda: customer.client.last_error is not None, 10)
    error = customer.client.last_error
    assert error is not None and (error.code, error.document, error.fatal) == (
        "forbidden", "warranty_claim:WC-1/internal", False)
    assert customer.client.running and customer.client.state is SyncState.SYNCING, "the rest keeps syncing"
    assert (await customer.records.open("warranty_claim:WC-1")).body["claim_number"] == "C-1"


# -- failing loudly: a refusal for good ends every wait at once, a timeout says what is pending ------------


@pytest.mark.parametrize("code", ["token_invalid", "token_expired"])
async def test_a_refused_token_makes_wait_synced_raise_that_refusal_at_once(
        hub: HubProcess, devices: Devices, code: str) -> None:
    token = "not-a-jwt" if code == "token_invalid" else hub.token(device="d", ttl_seconds=-60)
    device = await devices.make(hub, "dev-a", token=token)
    await device.records.create("work_order", "WO-1", {"status": "OPEN"})
    started = time.monotonic()
    device.client.start()
    with pytest.raises(SyncFailed) as raised:
        await device.client.wait_synced(5)
    assert time.monotonic() - started < 1.0, "the refusal ends the wait, not the timeout"
    assert isinstance(raised.value, AuthRejected) and isinstance(raised.value, ClientError)
    assert raised.value.code == code and code in str(raised.value) and raised.value.message
    with pytest.raises(SyncFailed, match=code):  # and every later wait, until a new token comes
        await device.client.wait_for(lambda c: c.state is SyncState.SYNCED, 5)
    device.client.set_token(hub.token(device=device.name))
    await device.client.wait_synced(10)


async def test_a_document_refused_for_good_makes_wait_synced_raise_naming_it(
        hub: HubProcess, devices: Devices) -> None:
    tablet = await devices.make(hub, "tablet")
    await tablet.records.create("warranty_claim", "WC-1", {"status": "SUBMITTED", "claim_number": "C-1"})
    await tablet.sync()
    customer = await devices.make(hub, "customer-app", roles=("customer",))
    await customer.replica.follow("warranty_claim:WC-1", "warranty_claim:WC-1/internal")
    started = time.monotonic()
    customer.client.start()
    with pytest.raises(SyncFailed) as raised:
        await customer.client.wait_synced(5)
    assert time.monotonic() - started < 2.0
    assert (raised.value.code, raised.value.document) == ("forbidden", "warranty_claim:WC-1/internal")
    assert customer.client.running, "the other documents keep syncing"


async def test_a_timeout_offline_says_what_is_pending_and_the_last_error(devices: Devices) -> None:
    device = await devices.make(None, "lonely")  # no hub listens there
    await device.records.create("work_order", "WO-1", {"status": "OPEN"})
    device.client.start()
    await device.client.wait_for(lambda c: c.last_error is not None, 5)
    with pytest.raises(SyncTimeout) as raised:
        await device.client.wait_synced(0.3)
    message = str(raised.value)
    assert isinstance(raised.value, TimeoutError) and isinstance(raised.value, ClientError)
    assert "1 outbox entry" in message and "work_order:WO-1" in message and "unreachable" in message, message
    assert raised.value.pending == {"work_order:WO-1": 1} and raised.value.last_error is not None


async def test_a_timeout_online_names_the_documents_not_in_sync(scripted: ScriptedHub, devices: Devices) -> None:
    scripted.silent.add("work_order:WO-1")  # never acknowledges anything of it
    device = await devices.make(None, "tablet", url=scripted.url)
    await device.records.create("work_order", "WO-1", {"status": "OPEN"})
    device.client.start()
    with pytest.raises(SyncTimeout) as raised:
        await device.client.wait_synced(1)
    assert "work_order:WO-1 (sending)" in str(raised.value) and raised.value.unsynced == ["work_order:WO-1"]
