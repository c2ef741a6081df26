"""The bus extension: other nodes' updates and awareness reach local subscribers once; losses are caught up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec
import pytest
from pycrdt import Map
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from sync.bus import AwarenessChanged, Bus, InProcessBus, RedisBus, UpdateCommitted
from sync.bus.messages import Envelope, encode_envelope
from sync.hub import Hub
from sync.protocol import Awareness, Sync, SyncStep
from sync.protocol.awareness import AwarenessEntry, decode_awareness_update, encode_awareness_update
from sync.store import LogEntry, StoredDocument
from sync.store.tables import updates as updates_table
from tests.support.delivery import Deliveries, update_payloads
from tests.support.inproc import Connection, token
from tests.support.stored import record_updates
from tests.sync.bus_nodes import nodes

NAME = "work_order:WO-1"


@pytest.fixture(params=["memory", "redis"])
def bus(request: pytest.FixtureRequest) -> Callable[[], Bus]:
    """A factory of buses on one network: one shared in-process bus, or Redis with this test's prefix."""
    if request.param == "memory":
        shared = InProcessBus()
        return lambda: shared
    url, prefix = request.getfixturevalue("shared_redis_url"), request.getfixturevalue("redis_prefix")
    return lambda: RedisBus(url, prefix=prefix)


async def test_updates_reach_every_node_once_and_never_their_writer(tmp_path: Path, bus: Callable[[], Bus]) -> None:
    async with nodes(tmp_path, 3, bus, message_burst=1000) as hubs:
        writers = [Connection(hub) for hub in hubs]
        readers = [Connection(hub) for hub in hubs]
        for i, conn in enumerate(writers + readers):
            await conn.open(NAME, token(device=f"d{i}"))
        made = [record_updates(30, key=f"w{i}-") for i in range(len(writers))]
        for writer, (_, updates) in zip(writers, made):
            for update in updates:
                writer.socket.push(Sync(NAME, SyncStep.UPDATE, update))
        for writer in writers:
            await writer.socket.wait(lambda w=writer: w.socket.statuses(NAME) == [True] * 30)
        everything = {f"w{i}-{j}": j for i in range(3) for j in range(30)}
        for reader in readers:
            received = lambda r=reader: Deliveries().replay(update_payloads(r.socket.received, NAME))
            await reader.socket.wait(lambda r=received: r().record == everything)
        await asyncio.sleep(0.3)  # anything sent twice would have arrived by now
        for reader in readers:
            replay = Deliveries().replay(update_payloads(reader.socket.received, NAME))
            assert replay.record == everything and replay.duplicates == 0
        for writer, (own, _) in zip(writers, made):
            replay = Deliveries(start=own).replay(update_payloads(writer.socket.received, NAME))
            assert replay.record == everything, "a writer gets every other writer's updates"
            assert replay.duplicates == 0, "and never its own back"
        for hub in hubs:
            assert hub.rooms[("acme", NAME)].doc.get("record", type=Map).to_py() == everything
        for conn in writers + readers:
            await conn.finish()


async def test_awareness_reaches_other_nodes_and_leaves_with_its_connection(tmp_path: Path, bus: Callable[[], Bus]) -> None:
    async with nodes(tmp_path, 2, bus) as (a, b):
        here, there = Connection(a), Connection(b)
        await here.open(NAME)
        await there.open(NAME, token(device="d2"))
        here.socket.push(Awareness(NAME, encode_awareness_update([AwarenessEntry(7, 1, '{"user":"u1"}')])))
        frame = await there.socket.wait_frame(Awareness, document=NAME)
        assert decode_awareness_update(frame.data) == [AwarenessEntry(7, 1, '{"user":"u1"}')]
        assert [e.client_id for e in b.rooms[("acme", NAME)].awareness.snapshot()] == [7]
        await here.finish()
        await there.socket.wait(lambda: any(
            isinstance(f, Awareness) and decode_awareness_update(f.data)[0].removed for f in there.socket.received))
        assert len(b.rooms[("acme", NAME)].awareness) == 0
        await there.finish()


async def test_lost_envelopes_are_caught_up_from_the_store_once(tmp_path: Path) -> None:
    shared = InProcessBus()
    async with nodes(tmp_path, 1, lambda: shared) as (hub,):
        reader = Connection(hub)
        await reader.open(NAME)
        _, updates = record_updates(2, key="ghost")
        await shared.publish(encode_envelope("ghost", 1, []))
        # the ghost node commits an update, and the envelope that carried it is lost
        await hub.store.append([LogEntry("acme", NAME, updates[0])])
        await shared.publish(encode_envelope("ghost", 3, []))
        await reader.socket.wait(lambda: Deliveries().replay(update_payloads(reader.socket.received, NAME)).record
                                 == {"ghost0": 0})
        assert hub.bus_link.gaps == 1
        # the lost update arrives late after all, then the next one: nothing is sent twice
        await shared.publish(encode_envelope("ghost", 4, [UpdateCommitted("acme", NAME, updates[0])]))
        await hub.store.append([LogEntry("acme", NAME, updates[1])])
        await shared.publish(encode_envelope("ghost", 5, [UpdateCommitted("acme", NAME, updates[1])]))
        await reader.socket.wait(lambda: Deliveries().replay(update_payloads(reader.socket.received, NAME)).record
                                 == {"ghost0": 0, "ghost1": 1})
        await asyncio.sleep(0.2)
        assert Deliveries().replay(update_payloads(reader.socket.received, NAME)).duplicates == 0
        await reader.finish()


async def test_an_update_whose_predecessor_was_not_heard_is_caught_up(tmp_path: Path) -> None:
    shared = InProcessBus()
    async with nodes(tmp_path, 1, lambda: shared) as (hub,):
        reader = Connection(hub)
        await reader.open(NAME)
        _, updates = record_updates(2, key="n")
        await hub.store.append([LogEntry("acme", NAME, u) for u in updates])
        await shared.publish(encode_envelope("other", 1, [UpdateCommitted("acme", NAME, updates[1])]))
        await reader.socket.wait(lambda: Deliveries().replay(update_payloads(reader.socket.received, NAME)).record
                                 == {"n0": 0, "n1": 1})
        await reader.finish()


async def test_a_silent_node_is_caught_up_and_its_awareness_removed(tmp_path: Path) -> None:
    shared = InProcessBus()
    async with nodes(tmp_path, 1, lambda: shared) as (hub,):
        reader = Connection(hub)
        await reader.open(NAME)
        presence = encode_awareness_update([AwarenessEntry(9, 1, '{"user":"gone"}')])
        await shared.publish(encode_envelope("doomed", 1, [AwarenessChanged("acme", NAME, presence)]))
        await reader.socket.wait_frame(Awareness, document=NAME)
        # it commits an update and dies before publishing it
        _, updates = record_updates(1, key="last")
        await hub.store.append([LogEntry("acme", NAME, updates[0])])
        await reader.socket.wait(lambda: Deliveries().replay(update_payloads(reader.socket.received, NAME)).record
                                 == {"last0": 0}, timeout=10)
        await reader.socket.wait(lambda: len(hub.rooms[("acme", NAME)].awareness) == 0)
        removal = [f for f in reader.socket.received if isinstance(f, Awareness)][-1]
        assert decode_awareness_update(removal.data)[0].removed
        await reader.finish()


async def test_a_message_of_an_unknown_kind_is_skipped_and_the_rest_applied(tmp_path: Path) -> None:
    shared = InProcessBus()
    async with nodes(tmp_path, 1, lambda: shared) as (hub,):
        reader = Connection(hub)
        await reader.open(NAME)
        _, updates = record_updates(1, key="x")
        await hub.store.append([LogEntry("acme", NAME, updates[0])])
        future = msgspec.Raw(msgspec.msgpack.encode(["close_device", "acme", "tablet-3"]))
        known = msgspec.Raw(msgspec.msgpack.encode(UpdateCommitted("acme", NAME, updates[0])))
        await shared.publish(msgspec.msgpack.encode(Envelope("newer", 1, [future, known])))
        await shared.publish(b"not an envelope")
        await reader.socket.wait(lambda: Deliveries().replay(update_payloads(reader.socket.received, NAME)).record
                                 == {"x0": 0})
        assert hub.bus_link.gaps == 0
        await reader.finish()


async def test_a_loss_reads_again_only_the_rooms_whose_log_moved_past_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared = InProcessBus()
    async with nodes(tmp_path, 1, lambda: shared) as (hub,):
        names = [f"work_order:WO-{i}" for i in range(500)]
        for name in names[:100]:  # rooms with a log of their own, a few of them compacted
            await hub.store.append([LogEntry("acme", name, record_updates(1, key=name)[1][0])])
        await hub.store.compact("acme", names[0])
        await asyncio.gather(*(hub.acquire("acme", name) for name in names))
        reader = Connection(hub)
        await reader.open(names[2])
        await wait_until(lambda: not hub.bus_link.catch_up.pending)  # the catch-ups of rooms loaded meanwhile
        read = count_loads(hub, monkeypatch)
        runs = hub.bus_link.catch_up.runs
        # a ghost node commits to three documents: the first envelope is heard, the second is lost
        await shared.publish(encode_envelope("ghost", 1, []))
        heard = await hub.store.append([LogEntry("acme", names[0], record_updates(1, key="heard")[1][0])])
        await shared.publish(encode_envelope("ghost", 2, [UpdateCommitted("acme", e.name, e.update, e.seq) for e in heard]))
        await hub.store.append([LogEntry("acme", name, record_updates(1, key="lost")[1][0]) for name in names[1:3]])
        await shared.publish(encode_envelope("ghost", 4, []))
        await reader.socket.wait(lambda: Deliveries().replay(update_payloads(reader.socket.received, names[2])).record
                                 == {"lost0": 0})
        await wait_until(lambda: hub.bus_link.catch_up.runs > runs and not hub.bus_link.catch_up.pending)
        runs = hub.bus_link.catch_up.runs

        assert sorted(read) == sorted(names[1:3]), "the rooms that missed an entry, and no other"
        assert hub.rooms[("acme", names[0])].doc.get("record", type=Map).to_py() == {f"{names[0]}0": 0, "heard0": 0}
        assert hub.rooms[("acme", names[1])].doc.get("record", type=Map).to_py() == {f"{names[1]}0": 0, "lost0": 0}
        # a loss when nothing moved reads no document at all
        hub.bus_link.connected()
        await wait_until(lambda: hub.bus_link.catch_up.runs > runs and not hub.bus_link.catch_up.pending)
        assert sorted(read) == sorted(names[1:3])
        await reader.finish()


async def test_a_loss_from_a_node_that_does_not_number_its_updates_reads_every_room_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared = InProcessBus()
    async with nodes(tmp_path, 1, lambda: shared) as (hub,):
        names = [f"work_order:WO-{i}" for i in range(5)]
        await asyncio.gather(*(hub.acquire("acme", name) for name in names))
        await wait_until(lambda: not hub.bus_link.catch_up.pending)
        read = count_loads(hub, monkeypatch)
        runs = hub.bus_link.catch_up.runs
        # a node of the previous version commits as it did (no number, no head moved) and its envelope is lost
        await shared.publish(encode_envelope("older", 1, [], numbered=False))
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
        try:
            async with engine.begin() as conn:
                await conn.execute(insert(updates_table).values(
                    tenant="acme", name=names[3], data=record_updates(1, key="old")[1][0]))
        finally:
            await engine.dispose()
        await shared.publish(encode_envelope("older", 3, [], numbered=False))
        await wait_until(lambda: hub.bus_link.catch_up.runs > runs and not hub.bus_link.catch_up.pending)

        assert sorted(read) == sorted(names), "its commits move no position: every room is read again"
        assert hub.rooms[("acme", names[3])].doc.get("record", type=Map).to_py() == {"old0": 0}


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def count_loads(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the documents ``hub`` reads from its store from now on (appended as they are read)."""
    read: list[str] = []
    load_many = hub.store.load_many

    async def counted(tenant: str, wanted: Sequence[str]) -> dict[str, StoredDocument]:
        read.extend(wanted)
        return await load_many(tenant, wanted)

    monkeypatch.setattr(hub.store, "load_many", counted)
    return read
