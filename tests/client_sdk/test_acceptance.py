"""Issue 3 acceptance: devices against a real hub process, on SQLite and on Postgres (``hub_on_store``).

The heartbeat's dead-link detection is shown in ``test_sync_client.py`` (it needs a proxy that goes silent).
"""

from __future__ import annotations

from dataclasses import replace

import asyncio
import json
import signal
import sys
from pathlib import Path

import pytest
from pycrdt import Doc, get_update

from client_sdk import (
    Acknowledged, ChangeOrigin, Connected, LocalReplica, OutboxEntry, RecordChange, SyncClient, SyncConfig, SyncState,
)
from conflict import DocumentContent, read_document
from conflict.records import WORK_ORDER
from sync.protocol import decode_state_vector
from sync.store import SqlStore
from tests.client_sdk.devices import FAST, Device, Devices, eventually
from tests.support.hub import HubProcess, free_port
from tests.support.stored import stored_doc

REPO = Path(__file__).resolve().parents[2]


async def device_process(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.client_sdk.device_process", *args, cwd=REPO, stdout=asyncio.subprocess.PIPE)


def contains(doc: Doc, update: bytes) -> bool:
    """Whether ``doc`` holds every insertion of ``update`` (what it lacks starts with a zero client count)."""
    return get_update(update, doc.get_state())[0] == 0


async def hub_content(hub: HubProcess, name: str) -> DocumentContent:
    doc, _ = await stored_doc(hub.database_url, "acme", name)
    return read_document(doc, WORK_ORDER)


# -- a device edits 3 work orders offline and is SIGKILLed before it reconnects -----------------------


async def test_offline_edits_survive_a_sigkilled_app_and_reach_the_hub_exactly_once(
    hub_on_store: HubProcess, devices: Devices, tmp_path: Path
) -> None:
    hub = hub_on_store
    names = [f"work_order:WO-{i}" for i in (1, 2, 3)]
    office = await devices.make(hub, "office", roles=("supervisor",))
    for i, name in enumerate(names, start=1):
        await office.records.create("work_order", f"WO-{i}", {"status": "OPEN", "technician": "tech-17"},
                                    texts={"description": f"Pump {i} leaks"})
    await office.sync()

    db = str(tmp_path / "tablet.db")
    common = ["--db", db, "--device", "tablet-3", "--token", hub.token(sub="tech-17", device="tablet-3")]
    app = await device_process("offline-edit", *common, "--user", "tech-17", "--url", hub.ws_url,
                               "--dead-url", f"ws://127.0.0.1:{free_port()}/sync", *names)
    assert app.stdout is not None
    word, counts = (await asyncio.wait_for(app.stdout.readline(), 60)).split(maxsplit=1)
    entries = json.loads(counts)  # outbox entries per work order (edits made within 50 ms share one)
    assert word == b"OFFLINE" and set(entries) == set(names) and all(entries.values())
    app.send_signal(signal.SIGKILL)  # while it keeps trying an unreachable hub
    assert await app.wait() == -signal.SIGKILL
    assert [(await hub_content(hub, name)).record["status"] for name in names] == ["OPEN"] * 3
    killed = await LocalReplica.open(db, device="tablet-3")  # what the killed app left in its file
    left = await killed.pending()
    await killed.close()
    assert len(left) == sum(entries.values()) and {n: sum(e.document == n for e in left) for n in names} == entries

    again = await device_process("sync", *common, "--url", hub.ws_url)
    out, _ = await asyncio.wait_for(again.communicate(), 60)
    assert again.returncode == 0
    assert json.loads(out.splitlines()[-1]) == {"pending": 0, "state": "synced"}

    for i, name in enumerate(names, start=1):
        content = await hub_content(hub, name)
        assert content.record["status"] == "IN_PROGRESS" and content.record["actual_minutes"] == 45
        assert [n["text"] for n in content.lists["notes"]] == [f"replaced the seal on {name}"]
        assert content.texts["description"] == f"Pump {i} leaks (checked on site)"
    log = await stored_log(hub, names)
    assert [sum(stored == entry.update for stored in log[entry.document]) for entry in left] == [1] * len(left), (
        "each update the killed app left in its outbox was stored exactly once")
    tablet = await devices.make(hub, "tablet-3", user="tech-17")
    assert await tablet.replica.pending() == [], "the outbox in the file is empty"
    await eventually(lambda: _office_sees(office, names))


async def stored_log(hub: HubProcess, names: list[str]) -> dict[str, list[bytes]]:
    """The update log of each document as the hub stored it."""
    store = SqlStore(hub.database_url)
    await store.start()
    try:
        return {name: (await store.load("acme", name)).updates for name in names}
    finally:
        await store.close()


async def _office_sees(office: Device, names: list[str]) -> bool:
    return [(await office.records.open(name)).status for name in names] == ["IN_PROGRESS"] * len(names)


# -- two devices edit the same records offline, then reconnect in either order ---------------------------


async def _replica_state(device: Device, name: str) -> tuple[DocumentContent, tuple, dict[int, int]]:
    """Content, projection (all but its local ``updated_at``) and state vector of one record."""
    view = await device.records.open(name)
    projection = (view.status, view.assignee, view.deleted, view.body)
    vector = decode_state_vector((await device.replica.state_vectors([name]))[name])
    return await device.records.content(name), projection, vector


@pytest.mark.parametrize("first", ["a", "b"])
async def test_two_devices_editing_the_same_records_offline_converge_in_either_order(
    hub_on_store: HubProcess, devices: Devices, first: str
) -> None:
    hub = hub_on_store
    names = ["work_order:WO-21", "work_order:WO-22"]
    a = await devices.make(hub, "tablet-a", user="tech-a")
    b = await devices.make(hub, "tablet-b", user="tech-b")
    await a.records.create("work_order", "WO-21", {"status": "OPEN", "technician": "tech-a", "title": "Compressor"},
                           texts={"description": "Compressor is noisy"})
    await a.records.create("work_order", "WO-22", {"status": "OPEN", "title": "Filter"})
    await a.sync()
    await b.replica.follow(*names)
    await b.sync()
    await a.go_offline()
    await b.go_offline()

    await a.records.set("work_order:WO-21", actual_minutes=30)  # different fields
    await b.records.set("work_order:WO-21", priority="HIGH")
    await a.records.set("work_order:WO-21", title="Compressor, belt replaced")  # the same field
    await b.records.set("work_order:WO-21", title="Compressor, quote sent")
    await a.records.set("work_order:WO-21", status="IN_PROGRESS")
    await a.records.append("work_order:WO-21", "notes", {"text": "belt worn"})
    await b.records.append("work_order:WO-21", "notes", {"text": "customer asked for a quote"})
    await a.records.edit_text("work_order:WO-21", "description", index=0, insert="[a] ")
    await b.records.edit_text("work_order:WO-21", "description", insert=" [b]")
    await a.records.set("work_order:WO-22", title="Filter replaced")
    await b.records.set("work_order:WO-22", title="Filter checked")
    await b.records.delete("work_order:WO-22")

    one, other = (a, b) if first == "a" else (b, a)
    await one.sync()
    await other.sync()

    async def same() -> bool:
        return [await _replica_state(a, n) for n in names] == [await _replica_state(b, n) for n in names]

    await eventually(same, 10)
    wo21 = await a.records.content("work_order:WO-21")
    assert wo21.record["actual_minutes"] == 30 and wo21.record["priority"] == "HIGH"
    assert wo21.record["status"] == "IN_PROGRESS"
    assert wo21.record["title"] in {"Compressor, belt replaced", "Compressor, quote sent"}
    assert sorted(n["text"] for n in wo21.lists["notes"]) == ["belt worn", "customer asked for a quote"]
    assert wo21.texts["description"] == "[a] Compressor is noisy [b]"
    assert (await a.records.open("work_order:WO-22")).deleted

    store = SqlStore(hub.database_url)
    await store.start()
    try:
        for name in names:
            local = await a.records.content(name)
            assert await hub_content(hub, name) == local, "the hub's document is the replicas' document"
            view = await a.records.open(name)

            async def projected(name: str = name) -> bool:
                row = await store.get_projection("acme", name)
                return row is not None and row.body.get("record") == local.record and (
                    row.status, row.assignee) == (view.status, view.assignee)

            await eventually(projected, 10)
    finally:
        await store.close()


# -- the hub restarts while a device is connected and sending -------------------------------------------


async def test_a_hub_restart_while_sending_loses_nothing_and_never_drops_an_unstored_entry(
    hub_on_store: HubProcess, devices: Devices
) -> None:
    hub = hub_on_store
    names = [f"work_order:WO-3{i}" for i in range(3)]
    # a dead hub is noticed by its closed socket, and failing that by a silent one (a CI run once saw no close
    # within 10 s of the SIGKILL): the heartbeat bounds that wait
    a = await devices.make(hub, "tablet", config=replace(FAST, heartbeat_interval=0.5, heartbeat_timeout=3.0))
    for name in names:
        await a.records.create("work_order", name.split(":")[1], {"status": "OPEN"})
    await a.sync()
    edits = 180

    async def keep_editing() -> None:
        for i in range(edits):
            await a.records.set(names[i % 3], {f"k{i}": i})
            await asyncio.sleep(0.004)

    writer = asyncio.create_task(keep_editing())
    await asyncio.sleep(0.3)
    hub.kill()
    await a.client.wait_for(lambda c: c.state in (SyncState.OFFLINE, SyncState.CONNECTING), 10)
    removed = [entry for e in a.events if isinstance(e, Acknowledged) for entry in e.entries]
    assert removed, "the kill came before any acknowledgement: the test proved nothing"
    await _all_stored(hub, removed)  # nothing left the outbox that the store does not hold

    hub.restart()
    await writer
    await a.client.wait_synced(30)
    assert a.client.pending == 0 and sum(isinstance(e, Connected) for e in a.events) >= 2
    removed = [entry for e in a.events if isinstance(e, Acknowledged) for entry in e.entries]
    await _all_stored(hub, removed)
    stored = {name: (await hub_content(hub, name)).record for name in names}
    lost = [i for i in range(edits) if stored[names[i % 3]].get(f"k{i}") != i]
    assert not lost, f"edits {lost} lost"


async def _all_stored(hub: HubProcess, entries: list[OutboxEntry]) -> None:
    docs = {name: (await stored_doc(hub.database_url, "acme", name))[0] for name in {e.document for e in entries}}
    missing = [entry.id for entry in entries if not contains(docs[entry.document], entry.update)]
    assert not missing, f"entries {missing} were removed from the outbox but are not in the hub's store"


# -- backoff with an injected clock and random source ---------------------------------------------------


async def test_backoff_delays_are_bounded_capped_and_reset_after_a_successful_sync(
    hub: HubProcess, devices: Devices
) -> None:
    draws = iter([0.999, 0.5, 0.001] * 10_000)
    taken: list[float] = []
    delays: list[float] = []

    def random() -> float:
        taken.append(next(draws))
        return taken[-1]

    async def sleep(delay: float) -> None:
        delays.append(delay)
        await asyncio.sleep(0.002)  # the injected clock: no real waiting

    a = await devices.make(hub, "tablet", config=SyncConfig(connect_timeout=1), random=random, sleep=sleep)
    await a.records.create("work_order", "WO-1", {"status": "OPEN"})
    await a.sync()
    assert delays == []
    hub.kill()
    await eventually(lambda: len(delays) >= 12, 20)
    for attempt, (delay, draw) in enumerate(zip(delays, taken)):
        ceiling = min(30.0, 1.0 * 2**attempt)
        assert 0 <= delay <= ceiling <= 30.0
        assert delay == pytest.approx(draw * ceiling), "full jitter: uniform below the ceiling"
    assert max(delays) <= 30 and delays[9] == pytest.approx(0.999 * 30), "capped at 30 s"

    hub.restart()
    await a.client.wait_synced(20)
    count = len(delays)
    hub.kill()
    await eventually(lambda: len(delays) > count, 10)
    assert delays[count] == pytest.approx(taken[count] * 1.0), "back to the 1 s base after a successful sync"
    assert delays[count] <= 1.0


# -- 200 unchanged documents: state vectors only -------------------------------------------------------


async def test_reconnecting_with_200_unchanged_documents_exchanges_state_vectors_only(
    hub_on_store: HubProcess, devices: Devices
) -> None:
    hub = hub_on_store
    a = await devices.make(hub, "tablet")
    words = "inspect the pump housing, replace the worn seal and log the pressure readings; ".split()
    for i in range(200):
        text = " ".join(words[(i + k) % len(words)] for k in range(900))  # about 6 KB of free text
        await a.records.create("work_order", f"WO-{i:03}", {"status": "OPEN", "technician": "tech-17",
                                                           "title": f"Job {i}"}, texts={"description": text})
    await a.sync(60)
    await a.go_offline()
    names = a.replica.followed()
    total = sum([await a.replica.read(name, lambda doc: len(doc.get_update())) for name in names])

    again = SyncClient(a.replica, hub.ws_url, hub.token(device="tablet"), config=FAST)
    try:
        again.start()
        await again.wait_synced(60)
    finally:
        await again.close()
    traffic = again.traffic
    exchanged = traffic.bytes_sent + traffic.bytes_received
    assert traffic.frames_sent == 3 * 200, "Auth, step 1 and an empty step 2 per document: no update"
    print(f"reconnect with 200 unchanged documents: {exchanged} bytes exchanged for {total} bytes of documents")
    assert exchanged < total * 0.1, f"{exchanged} bytes exchanged for {total} bytes of documents"

    cold = await devices.make(hub, "cold-tablet")
    await cold.replica.follow(*names)
    await cold.sync(60)
    assert cold.client.traffic.bytes_received > total * 0.9, "a first sync does move the documents"


# -- local queries offline; callbacks once per change, local and remote ---------------------------------


async def test_local_queries_work_offline_and_callbacks_fire_once_per_change(hub: HubProcess, devices: Devices) -> None:
    tablet = await devices.make(hub, "tablet", user="tech-17")
    office = await devices.make(hub, "office", user="dispatch", roles=("supervisor",))
    seen: list[RecordChange] = []
    tablet.records.on_change(seen.append)

    for i, technician in enumerate(["tech-17", "tech-17", "tech-9"]):
        await tablet.records.create("work_order", f"WO-{i}", {"status": "OPEN", "technician": technician})
    await tablet.records.set("work_order:WO-1", status="IN_PROGRESS")
    await tablet.records.create("warranty_claim", "WC-1", {"status": "SUBMITTED", "assignee": "tech-17"})
    assert tablet.client.state is SyncState.OFFLINE
    assert [v.id for v in await tablet.records.query(type="work_order", status="OPEN")] == ["WO-0", "WO-2"]
    assert [v.id for v in await tablet.records.query(assignee="tech-17", type="work_order")] == ["WO-0", "WO-1"]
    assert len(seen) == 5 and {c.origin for c in seen} == {ChangeOrigin.LOCAL}

    await tablet.sync()
    await office.replica.follow("work_order:WO-1")
    await office.sync()
    await quiet(seen)  # the hub may answer status changes with fields of its own (status_updated_at, history)
    before = len(seen)

    office_seen: list[RecordChange] = []
    office.records.on_change(office_seen.append)
    await office.records.set("work_order:WO-1", priority="HIGH")
    await office.client.wait_synced(10)
    await office.records.append("work_order:WO-1", "notes", {"text": "parts are in the van"})
    await office.client.wait_synced(10)
    await eventually(lambda: len(seen) == before + 2, 10)
    await tablet.records.set("work_order:WO-1", actual_minutes=20)
    await tablet.client.wait_synced(10)
    await eventually(lambda: len(office_seen) == 3, 10)
    await quiet(seen)

    assert [(c.origin, c.name) for c in seen[before:]] == [(ChangeOrigin.REMOTE, "work_order:WO-1")] * 2 + [
        (ChangeOrigin.LOCAL, "work_order:WO-1")]
    assert [c.origin for c in office_seen] == [ChangeOrigin.LOCAL, ChangeOrigin.LOCAL, ChangeOrigin.REMOTE]
    assert [v.id for v in await tablet.records.query(type="work_order") if v.body["priority"] == "HIGH"] == ["WO-1"]

    await tablet.go_offline()
    assert [v.id for v in await tablet.records.query(type="work_order", assignee="tech-17")] == ["WO-0", "WO-1"]
    count = len(seen), len(office_seen)
    await tablet.sync()  # a reconnect with nothing new fires nothing
    await asyncio.sleep(0.2)
    assert (len(seen), len(office_seen)) == count


async def quiet(changes: list[RecordChange], period: float = 0.3) -> None:
    """Wait until no change has come for ``period`` seconds."""
    while True:
        count = len(changes)
        await asyncio.sleep(period)
        if len(changes) == count:
            return
