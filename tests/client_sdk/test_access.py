"""The device under the hub's access rules, on real hub processes: lost access, rejected writes, tokens that expire.

The hub runs its default rules (``sync/access/rules.toml``); the technician is ``tech-1`` and the supervisor
``sup-1``, as a tenant's people would be.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections import Counter
from dataclasses import replace

import pytest
from pycrdt import Array, Doc, Map

from client_sdk import Acknowledged, AuthRejected, Connected, Disconnected, ErrorReported, SyncState
from client_sdk.credentials import token_expiry
from client_sdk.state import TokenRefreshed, TokenRefreshFailed, WriteRejected
from sync.access import DEFAULT_ACCESS_FILE
from sync.store import SqlStore
from tests.client_sdk.devices import FAST, Device, Devices, eventually, holds, seed
from tests.support.hub import HubProcess
from tests.support.stored import stored_doc

pytestmark = pytest.mark.hub_env(FIELDSYNC_ACCESS_FILE=str(DEFAULT_ACCESS_FILE))

PUMP, VALVE = "work_order:WO-7", "work_order:WO-8"


async def technician_with_two_orders(hub: HubProcess, devices: Devices) -> tuple[Device, Device]:
    """``tech-1``'s tablet, in sync with its two work orders, and the supervisor's desk following the first."""
    await seed(hub, {PUMP: {"status": "OPEN", "technician": "tech-1", "title": "Pump 3"},
                     VALVE: {"status": "OPEN", "technician": "tech-1", "title": "Valve 9"}})
    tech = await devices.make(hub, "tablet-1", user="tech-1")
    desk = await devices.make(hub, "desk", user="sup-1", roles=("supervisor",))
    await tech.replica.follow(PUMP, VALVE)
    await desk.replica.follow(PUMP)
    await tech.sync()
    await desk.sync()
    return tech, desk


def notes(doc: Doc) -> list[str]:
    return [note["text"] for note in doc.get("notes", type=Array).to_py() or []]


async def review_queue(hub: HubProcess, name: str) -> list:
    store = SqlStore(hub.database_url)
    await store.start()
    try:
        return [row for row in await store.list_conflicts("acme", name=name) if row.kind == "rejected"]
    finally:
        await store.close()


def kept_update(row) -> Doc:  # type: ignore[no-untyped-def]
    doc = Doc()
    doc.apply_update(base64.b64decode(row.values[0]["update"]))
    return doc


async def test_a_reassigned_technician_loses_the_order_within_a_second_and_receives_nothing_more(
        hub_on_store: HubProcess, devices: Devices) -> None:
    tech, desk = await technician_with_two_orders(hub_on_store, devices)
    began = time.monotonic()
    await desk.records.set(PUMP, technician="tech-2")
    revoked = await eventually(lambda: [e for e in tech.events if isinstance(e, ErrorReported)
                                        and (e.error.code, e.error.document) == ("access_revoked", PUMP)], 5, 0.01)
    assert time.monotonic() - began < 1.0, "the device is told at once"
    assert tech.client.running and revoked[0].error.fatal is False, "the other order keeps syncing"
    await desk.records.set(PUMP, title="Pump 3, second visit")
    await desk.client.wait_synced(10)
    await tech.records.append(VALVE, "notes", {"text": "valve greased"})
    await tech.records.append(PUMP, "notes", {"text": "typed after the order was gone"})
    await tech.client.wait_for(lambda c: c.pending == 0, 10)
    assert (await tech.records.open(PUMP)).body["title"] == "Pump 3", "nothing more of the order reached it"
    assert notes((await stored_doc(hub_on_store.database_url, "acme", VALVE))[0]) == ["valve greased"]
    # an edit of the lost order is not stuck in the outbox: sent once, kept for review, kept on the device
    (event,) = await eventually(lambda: [e for e in tech.events if isinstance(e, WriteRejected)], 5)
    assert (event.document, event.code) == (PUMP, "access_revoked")
    assert [e.id for e in await tech.replica.rejected()] == [e.id for e in event.entries]
    (row,) = await eventually(lambda: review_queue(hub_on_store, PUMP), 5)  # the hub saves it in the background
    assert notes(kept_update(row)) == ["typed after the order was gone"]


async def test_an_edit_made_offline_before_the_reassignment_was_known_ends_in_the_review_queue_and_on_the_device(
        hub_on_store: HubProcess, devices: Devices) -> None:
    hub = hub_on_store
    tech, desk = await technician_with_two_orders(hub, devices)
    await tech.go_offline()
    await tech.records.append(PUMP, "notes", {"text": "seal replaced, typed in the basement"})
    await tech.records.append(VALVE, "notes", {"text": "valve greased"})
    (offline_edit, _) = await tech.replica.pending()
    await desk.records.set(PUMP, technician="tech-2")
    await desk.client.wait_synced(10)

    tech.client.start()  # back in coverage
    (event,) = await eventually(lambda: [e for e in tech.events if isinstance(e, WriteRejected)], 10)
    await tech.client.wait_for(lambda c: c.pending == 0, 10)

    # the hub: not applied, kept for review with its author, device and content
    pump, _ = await stored_doc(hub.database_url, "acme", PUMP)
    assert notes(pump) == [] and pump.get("record", type=Map).to_py()["technician"] == "tech-2"
    (row,) = await eventually(lambda: review_queue(hub, PUMP), 5)
    assert (row.values[0]["user"], row.values[0]["device"], row.needs_review) == ("tech-1", "tablet-1", True)
    assert notes(kept_update(row)) == ["seal replaced, typed in the basement"]
    # the device: told, and kept in its file (entry and local document); the other order went through
    assert (event.document, event.code, [e.id for e in event.entries]) == (PUMP, "forbidden", [offline_edit.id])
    (kept,) = await tech.replica.rejected(PUMP)
    assert (kept.id, kept.update, kept.code) == (offline_edit.id, offline_edit.update, "forbidden")
    assert kept.reason.startswith("forbidden: ") and kept.rejected_at >= kept.created_at
    assert (await tech.records.open(PUMP)).body["notes"][0]["text"] == "seal replaced, typed in the basement"
    assert notes((await stored_doc(hub.database_url, "acme", VALVE))[0]) == ["valve greased"]
    # sent once, never again, on this connection or the next
    await tech.go_offline()
    tech.client.start()
    await tech.client.wait_for(lambda c: c.state is SyncState.SYNCING and c.status.documents == 2, 10)
    await asyncio.sleep(0.5)
    assert len(await review_queue(hub, PUMP)) == 1 and sum(isinstance(e, WriteRejected) for e in tech.events) == 1


async def test_an_order_that_left_the_technician_s_scope_keeps_its_rejected_edit_until_the_app_dismisses_it(
        hub: HubProcess, devices: Devices) -> None:
    await seed(hub, {PUMP: {"status": "OPEN", "technician": "tech-1", "title": "Pump 3"}})
    tech = await devices.make(hub, "tablet-1", user="tech-1")
    desk = await devices.make(hub, "desk", user="sup-1", roles=("supervisor",))
    await tech.client.follow("my_work_orders")
    await desk.replica.follow(PUMP)
    await tech.sync()
    await desk.sync()
    await tech.go_offline()
    await tech.records.append(PUMP, "notes", {"text": "typed offline"})
    await desk.records.set(PUMP, technician="tech-2")
    await desk.client.wait_synced(10)

    tech.client.start()
    (event,) = await eventually(lambda: [e for e in tech.events if isinstance(e, WriteRejected)], 10)
    await eventually(lambda: PUMP not in tech.replica.followed(), 10)
    assert (event.document, event.code) == (PUMP, "forbidden")
    assert (await tech.records.open(PUMP)).body["notes"][0]["text"] == "typed offline", "kept: not dismissed yet"
    await tech.replica.dismiss_rejected([e.id for e in event.entries])
    assert not await holds(tech, PUMP), "dismissed: it goes, as the scope said"
    (row,) = await eventually(lambda: review_queue(hub, PUMP), 5)
    assert notes(kept_update(row)) == ["typed offline"]


def provider_of(hub: HubProcess, ttl: int, *, cached: bool = False):  # type: ignore[no-untyped-def]
    """A token provider minting ``tech-1`` tokens of ``ttl`` seconds; ``cached``: the same one until it expires."""
    minted: list[str] = []

    async def provider() -> str:
        if not (cached and minted and (token_expiry(minted[-1]) or 0) > time.time()):
            minted.append(hub.token(sub="tech-1", device="tablet-1", ttl_seconds=ttl))
        return minted[-1]

    provider.minted = minted  # type: ignore[attr-defined]
    return provider


async def edit_across(device: Device, name: str, seconds: float, every: float = 0.2) -> list[str]:
    """Append a note every ``every`` seconds for ``seconds``; returns their texts."""
    texts = []
    for i in range(int(seconds / every)):
        texts.append(f"reading {i}")
        await device.records.append(name, "notes", {"text": texts[-1]})
        await asyncio.sleep(every)
    return texts


def acknowledged_ids(device: Device) -> Counter[int]:
    return Counter(entry.id for e in device.events if isinstance(e, Acknowledged) for entry in e.entries)


async def test_a_provider_token_expiring_in_two_seconds_is_refreshed_on_the_same_socket_and_nothing_is_lost(
        hub_on_store: HubProcess, devices: Devices) -> None:
    hub = hub_on_store
    await seed(hub, {VALVE: {"status": "OPEN", "technician": "tech-1"}})
    provider = provider_of(hub, ttl=2)
    tech = await devices.make(hub, "tablet-1", user="tech-1", token=provider,
                              config=replace(FAST, token_refresh_margin=1.0))
    await tech.replica.follow(VALVE)
    await tech.sync()
    _, log_before = await stored_doc(hub.database_url, "acme", VALVE)
    created = len(await tech.replica.pending())

    texts = await edit_across(tech, VALVE, seconds=5)  # across two expiries at least
    await tech.client.wait_synced(10)

    stored, log_after = await stored_doc(hub.database_url, "acme", VALVE)
    assert notes(stored) == texts, "every edit made across the expiries reached the store"
    assert log_after - log_before == len(texts), "each stored once: nothing was sent twice"
    counts = acknowledged_ids(tech)
    assert len(counts) == len(texts) + created and set(counts.values()) == {1}, "each acknowledged once"
    assert len(provider.minted) >= 3 and sum(isinstance(e, TokenRefreshed) for e in tech.events) >= 3
    assert not any(isinstance(e, Disconnected) for e in tech.events), "the same socket all along"
    assert not any(isinstance(e, ErrorReported) and e.error.code == "token_expired" for e in tech.events)


async def test_a_token_the_hub_expired_is_replaced_at_once_from_the_provider(
        hub_on_store: HubProcess, devices: Devices) -> None:
    hub = hub_on_store
    await seed(hub, {VALVE: {"status": "OPEN", "technician": "tech-1"}})
    provider = provider_of(hub, ttl=2, cached=True)  # gives the same token until it has expired
    tech = await devices.make(hub, "tablet-1", user="tech-1", token=provider,
                              config=replace(FAST, token_refresh_margin=1.0))
    timed: list[tuple[float, object]] = []
    tech.client.on_event(lambda event: timed.append((time.monotonic(), event)))
    await tech.replica.follow(VALVE)
    await tech.sync()

    texts = await edit_across(tech, VALVE, seconds=4)
    await tech.client.wait_synced(10)

    expired = [e for e in tech.events if isinstance(e, ErrorReported) and e.error.code == "token_expired"]
    assert expired and not any(e.error.fatal for e in expired) and tech.client.running
    assert len(provider.minted) >= 2
    assert notes((await stored_doc(hub.database_url, "acme", VALVE))[0]) == texts, "nothing lost"
    assert set(acknowledged_ids(tech).values()) == {1}, "each entry acknowledged once"
    # each expiry: a new token and a new connection at once, not after a backoff delay
    for at, event in timed:
        if isinstance(event, ErrorReported) and event.error.code == "token_expired":
            back = next(t for t, later in timed if t >= at and isinstance(later, Connected))
            assert back - at < 0.5


async def test_a_failing_provider_is_asked_again_with_backoff_and_reported_until_it_gives_a_token(
        hub: HubProcess, devices: Devices) -> None:
    await seed(hub, {VALVE: {"status": "OPEN", "technician": "tech-1"}})
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls <= 3:
            raise ConnectionError(f"identity provider unreachable ({calls})")
        return hub.token(sub="tech-1", device="tablet-1")

    tech = await devices.make(hub, "tablet-1", user="tech-1", token=flaky)
    await tech.replica.follow(VALVE)
    tech.client.start()
    await eventually(lambda: calls >= 2)
    assert tech.client.running and tech.client.last_error is not None
    assert tech.client.last_error.code == "token_unavailable", "the app can show why it is not syncing"
    await tech.sync()
    await tech.records.append(VALVE, "notes", {"text": "typed after the login came back"})
    await tech.client.wait_synced(10)
    failures = [e for e in tech.events if isinstance(e, TokenRefreshFailed)]
    assert [f.attempt for f in failures] == [1, 2, 3] and calls == 4
    assert all("identity provider unreachable" in f.error and f.delay >= 0 for f in failures)
    assert notes((await stored_doc(hub.database_url, "acme", VALVE))[0]) == ["typed after the login came back"]


async def test_a_provider_failing_at_refresh_time_is_retried_while_the_device_goes_on_and_nothing_is_lost(
        hub: HubProcess, devices: Devices) -> None:
    await seed(hub, {VALVE: {"status": "OPEN", "technician": "tech-1"}})
    answers = ["short", "down", "down", "down", "down", "down", "long"]

    async def provider() -> str:
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if answer == "down":
            await asyncio.sleep(0.3)
            raise TimeoutError("identity provider timed out")
        return hub.token(sub="tech-1", device="tablet-1", ttl_seconds=2 if answer == "short" else 3600)

    tech = await devices.make(hub, "tablet-1", user="tech-1", token=provider,
                              config=replace(FAST, token_refresh_margin=1.0))
    await tech.replica.follow(VALVE)
    await tech.sync()
    texts = await edit_across(tech, VALVE, seconds=4)
    await tech.client.wait_synced(10)

    # (a call cut short when the hub ended the token and the connection with it is not a failure)
    assert answers == ["long"] and sum(isinstance(e, TokenRefreshFailed) for e in tech.events) >= 4
    assert tech.client.running
    assert notes((await stored_doc(hub.database_url, "acme", VALVE))[0]) == texts, "nothing lost"
    assert set(acknowledged_ids(tech).values()) == {1}


async def test_a_static_token_that_expires_on_the_open_socket_makes_wait_synced_raise_at_once(
        hub: HubProcess, devices: Devices) -> None:
    await seed(hub, {VALVE: {"status": "OPEN", "technician": "tech-1"}})
    token = hub.token(sub="tech-1", device="tablet-1", ttl_seconds=2)
    tech = await devices.make(hub, "tablet-1", user="tech-1", token=token)
    await tech.replica.follow(VALVE)
    await tech.sync()
    expires = token_expiry(token)
    assert expires is not None
    await asyncio.sleep(max(0.0, expires - time.time()) + 0.1)
    await tech.records.append(VALVE, "notes", {"text": "after the expiry"})
    with pytest.raises(AuthRejected) as raised:
        await tech.client.wait_synced(10)
    assert raised.value.code == "token_expired" and time.time() - expires < 1.5
    assert tech.client.pending == 1, "the edit waits for a new token"
    tech.client.set_token(hub.token(sub="tech-1", device="tablet-1"))
    await tech.client.wait_synced(10)
    assert notes((await stored_doc(hub.database_url, "acme", VALVE))[0]) == ["after the expiry"]


async def test_a_new_token_set_by_the_app_re_authenticates_the_open_socket(hub: HubProcess, devices: Devices) -> None:
    await seed(hub, {VALVE: {"status": "OPEN", "technician": "tech-1"}})
    short = hub.token(sub="tech-1", device="tablet-1", ttl_seconds=2)
    tech = await devices.make(hub, "tablet-1", user="tech-1", token=short)
    await tech.replica.follow(VALVE)
    await tech.sync()
    tech.client.set_token(hub.token(sub="tech-1", device="tablet-1"))
    await asyncio.sleep(max(0.0, (token_expiry(short) or 0) - time.time()) + 0.5)  # past the first token's end
    await tech.records.append(VALVE, "notes", {"text": "still served"})
    await tech.client.wait_synced(10)
    assert not any(isinstance(e, Disconnected) for e in tech.events), "the same socket, under the new token"
    assert notes((await stored_doc(hub.database_url, "acme", VALVE))[0]) == ["still served"]


async def test_a_provider_token_the_hub_refuses_outright_stops_the_client_loudly(
        hub: HubProcess, devices: Devices) -> None:
    async def expired_login() -> str:
        return hub.token(sub="tech-1", device="tablet-1", ttl_seconds=-60)

    tech = await devices.make(hub, "tablet-1", user="tech-1", token=expired_login)
    await tech.records.create("work_order", "WO-1", {"status": "OPEN", "technician": "tech-1"})
    tech.client.start()
    with pytest.raises(AuthRejected, match="token_expired"):
        await tech.client.wait_synced(5)
    assert not tech.client.running and tech.client.pending == 1, "never accepted: no loop, the edit kept"


@pytest.mark.hub_env(FIELDSYNC_ACCESS_FILE=str(DEFAULT_ACCESS_FILE), FIELDSYNC_MESSAGES_PER_SECOND="10",
                     FIELDSYNC_MESSAGE_BURST="12")
async def test_rejected_writes_refused_for_the_device_s_rate_are_sent_again_and_each_kept_once(
        hub: HubProcess, devices: Devices) -> None:
    await seed(hub, {PUMP: {"status": "OPEN", "technician": "tech-2"}, VALVE: {"status": "OPEN", "technician": "tech-1"}})
    tech = await devices.make(hub, "tablet-1", user="tech-1", coalesce_ms=0)
    await tech.replica.follow(PUMP, VALVE)  # the pump's order went to another technician while it was offline
    await tech.replica.apply_remote(PUMP, (await stored_doc(hub.database_url, "acme", PUMP))[0].get_update())
    for i in range(20):
        await tech.records.append(PUMP, "notes", {"text": f"offline note {i}"})
    typed = [e.id for e in await tech.replica.pending()]
    tech.client.start()
    await tech.client.wait_for(lambda c: c.replica.rejected_count() == 20, 20)

    assert any(isinstance(e, ErrorReported) and e.error.code == "rate_limited" for e in tech.events), "it was held"
    assert sorted(e.id for e in await tech.replica.rejected(PUMP)) == typed and tech.client.pending == 0
    rows = await eventually(lambda: _rows_when(hub, PUMP, 20), 10)
    await asyncio.sleep(0.5)
    assert len(await review_queue(hub, PUMP)) == 20, "each kept once by the hub"
    together, _ = await stored_doc(hub.database_url, "acme", PUMP)
    for row in rows:
        together.apply_update(base64.b64decode(row.values[0]["update"]))
    assert notes(together) == [f"offline note {i}" for i in range(20)], "with all its content"


async def _rows_when(hub: HubProcess, name: str, count: int) -> list:
    rows = await review_queue(hub, name)
    assert len(rows) <= count, f"{len(rows)} rows: an entry was kept twice"
    return rows if len(rows) == count else []
