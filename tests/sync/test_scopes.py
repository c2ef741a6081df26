"""Scope subscriptions on a real hub: members on subscribe, live pushes, resume by version, their lifetime."""

from __future__ import annotations

import asyncio
from pathlib import Path

from server.auth import JwtVerifier
from sync.bus import InProcessBus
from sync.config import HubConfig
from sync.hub import Hub
from sync.protocol.control import ScopeMembers, Unsubscribe
from sync.store import SqlStore
from tests.support.inproc import OPEN_ACCESS, SECRET, migrated_sqlite, running_hub
from tests.sync.replicas import Replica
from tests.sync.scope_devices import TENANT, ScopeDevice, projection, scope_token, seed, until

WO = "work_order:WO-7"
# Pushes from this node's own writes must not wait for the poll: make the poll too slow to matter.
NO_POLL = 60_000


async def test_subscribe_answers_the_matching_readable_members_and_the_tenants_version(store_url: str,
                                                                                       tmp_path: Path) -> None:
    async with running_hub(tmp_path, store_url) as hub:
        version = await seed(
            hub,
            projection("work_order:WO-1", "OPEN", "ana"),
            projection("work_order:WO-2", "IN_PROGRESS", "ana"),
            projection("work_order:WO-3", "CLOSED", "ana"),
            projection("work_order:WO-4", "OPEN", "ben"),
            projection("work_order:WO-5", "OPEN", "ana", tenant="globex"),
            projection("policy:P-1", "ACTIVE", "ana"),
            # matched by the tenant scope, but no viewer may open them
            projection("warranty_claim:WC-1/internal", None, None),
            projection("invoice:I-1", None, None),
        )
        ana = ScopeDevice(hub)
        assert (await ana.auth()).scope == "read-write"  # type: ignore[union-attr]
        answer = await ana.subscribe("mine")
        assert answer == ScopeMembers(id="mine", scope="my_work_orders", params={"user": "ana"}, version=version,
                                      members=["work_order:WO-1", "work_order:WO-2"])

        viewer = ScopeDevice(hub)
        assert (await viewer.auth(scope_token("vic", "viewer"))).scope == "readonly"  # type: ignore[union-attr]
        everything = await viewer.subscribe("all", "tenant")
        assert everything.members == [
            "policy:P-1", "work_order:WO-1", "work_order:WO-2", "work_order:WO-3", "work_order:WO-4",
        ]
        assert hub.rooms == {}, "following a scope loads no document"
        await ana.finish(), await viewer.finish()


async def test_assignment_reassignment_and_closing_are_pushed_as_soon_as_projected(tmp_path: Path) -> None:
    async with running_hub(tmp_path, scope_poll_ms=NO_POLL) as hub:
        ana, ben = ScopeDevice(hub), ScopeDevice(hub)
        await ana.auth(scope_token("ana"))
        await ben.auth(scope_token("ben"))
        first = await ana.subscribe("mine")
        await ben.subscribe("mine")
        assert first.members == [] and first.version == 0

        office = Replica(WO, user="sup", device="office", roles=("supervisor",))
        await office.connect(hub)
        office.send(office.write_many({"status": "OPEN", "title": "Pump 3", "technician": "ana"}))
        await ana.wait_members("mine", {WO})
        (pushed,) = ana.answers("mine")[1:]
        assert (pushed.members, pushed.added, pushed.removed) == (None, [WO], [])
        assert pushed.version > first.version

        office.send(office.write("technician", "ben"))
        await ana.wait_members("mine", set())
        await ben.wait_members("mine", {WO})
        assert ana.answers("mine")[-1].removed == [WO] and ben.answers("mine")[-1].added == [WO]

        office.send(office.write("status", "CANCELLED"))
        await ben.wait_members("mine", set())
        versions = [answer.version for answer in ben.answers("mine")]
        assert versions == sorted(versions) and len(set(versions)) == len(versions)
        assert len(ana.answers("mine")) == 3, "ana was told nothing about a job that is no longer hers"
        assert all(await office.settled())
        await office.close(), await ana.finish(), await ben.finish()


async def test_changes_projected_by_another_node_are_pushed_by_polling(tmp_path: Path) -> None:
    url = await migrated_sqlite(tmp_path / "hub.db")
    bus = InProcessBus()
    stores = [SqlStore(url), SqlStore(url)]
    for store in stores:
        await store.start()
    verifier = JwtVerifier(secret=SECRET)
    writer = Hub(stores[0], verifier, bus=bus, config=HubConfig(scope_poll_ms=NO_POLL), access=OPEN_ACCESS)
    follower = Hub(stores[1], verifier, bus=bus, config=HubConfig(scope_poll_ms=50), access=OPEN_ACCESS)
    try:
        async with writer.running(), follower.running():
            ana = ScopeDevice(follower)
            await ana.auth()
            await ana.subscribe("mine")
            office = Replica(WO, user="sup", device="office", roles=("supervisor",))
            await office.connect(writer)
            office.send(office.write_many({"status": "OPEN", "technician": "ana"}))
            await ana.wait_members("mine", {WO})

            await seed(writer, projection("work_order:WO-8", "OPEN", "ana"))  # straight to the store
            await ana.wait_members("mine", {WO, "work_order:WO-8"})
            await office.close(), await ana.finish()
    finally:
        for store in stores:
            await store.close()


async def test_resume_sends_what_changed_since_the_devices_version(store_url: str, tmp_path: Path) -> None:
    async with running_hub(tmp_path, store_url) as hub:
        held = await seed(hub, projection("work_order:WO-1", "OPEN", "ana"), projection("work_order:WO-2", "OPEN", "ana"),
                          projection("work_order:WO-3", "OPEN", "ben"))
        ana = ScopeDevice(hub)
        await ana.auth()
        assert (await ana.subscribe("mine")).members == ["work_order:WO-1", "work_order:WO-2"]

        same = await ana.subscribe("again", version=held)
        assert (same.members, same.added, same.removed, same.version) == (None, [], [], held)

        now = await seed(
            hub,
            projection("work_order:WO-2", "CLOSED", "ana"),  # leaves
            projection("work_order:WO-3", "OPEN", "ana"),  # joins
            projection("work_order:WO-4", "OPEN", "ben"),  # a work order, never hers
            projection("policy:P-1", "ACTIVE", "ana"),  # not a type this scope holds: not mentioned
        )
        diff = await ana.subscribe("resumed", version=held)
        assert (diff.members, diff.added, diff.removed, diff.version) == (
            None, ["work_order:WO-3"], ["work_order:WO-2", "work_order:WO-4"], now,
        )

        future = await ana.subscribe("from-another-store", version=now + 100)
        assert future.members == ["work_order:WO-1", "work_order:WO-3"] and future.version == now

        await seed(hub, *(projection(f"work_order:WO-x{i}", "OPEN", "ben") for i in range(201)))
        stale = await ana.subscribe("stale", version=now)
        assert stale.members == ["work_order:WO-1", "work_order:WO-3"], "more than 200 changes: the whole list"
        await ana.finish()


async def test_unsubscribe_stops_the_pushes(tmp_path: Path) -> None:
    async with running_hub(tmp_path, scope_poll_ms=20) as hub:
        ana = ScopeDevice(hub)
        await ana.auth()
        await ana.subscribe("mine")
        await ana.subscribe("also")
        await seed(hub, projection("work_order:WO-1", "OPEN", "ana"))
        await ana.wait_members("mine", {"work_order:WO-1"})
        await ana.wait_members("also", {"work_order:WO-1"})

        ana.send(Unsubscribe(id="mine"))
        ana.send(Unsubscribe(id="never-subscribed"))  # ignored
        await until(lambda: hub.scopes.subscriptions == 1)
        await seed(hub, projection("work_order:WO-2", "OPEN", "ana"))
        await ana.wait_members("also", {"work_order:WO-1", "work_order:WO-2"})
        await hub.scopes.poll(TENANT)
        assert len(ana.answers("mine")) == 2 and ana.notices() == []
        await ana.finish()


async def test_subscribing_again_with_the_same_id_replaces_the_subscription(tmp_path: Path) -> None:
    async with running_hub(tmp_path, scope_poll_ms=20) as hub:
        await seed(hub, projection("work_order:WO-1", "OPEN", "ana"), projection("work_order:WO-2", "OPEN", "ben"))
        sup = ScopeDevice(hub)
        await sup.auth(scope_token("sup", "supervisor"))
        assert (await sup.subscribe("watch", user="ana")).members == ["work_order:WO-1"]
        replaced = await sup.subscribe("watch", user="ben")
        assert replaced.members == ["work_order:WO-2"] and replaced.params == {"user": "ben"}
        assert hub.scopes.subscriptions == 1

        await seed(hub, projection("work_order:WO-3", "OPEN", "ana"), projection("work_order:WO-4", "OPEN", "ben"))
        await sup.wait_members("watch", {"work_order:WO-2", "work_order:WO-4"})
        await hub.scopes.poll(TENANT)
        assert "work_order:WO-3" not in {name for answer in sup.answers("watch") for name in answer.added}
        await sup.finish()


async def test_a_subscription_ends_with_its_connection(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        devices = [ScopeDevice(hub) for _ in range(3)]
        for device in devices:
            await device.auth()
            await device.subscribe("a")
            await device.subscribe("b")
        assert hub.scopes.subscriptions == 6
        await devices[0].finish()
        assert hub.scopes.subscriptions == 4
        await asyncio.gather(*(device.finish() for device in devices[1:]))
        assert hub.scopes.subscriptions == 0


class ChangedDuringTheRead:
    """The hub's store, where ``rows`` are saved between the read of the tenant's number and of the members."""

    def __init__(self, hub: Hub, *rows: object) -> None:
        self._store, self._rows = hub.store, rows

    async def scope_members(self, tenant: str, scope: object) -> list[str]:
        if self._rows:
            rows, self._rows = self._rows, ()
            await self._store.save_projections(rows)
        return await self._store.scope_members(tenant, scope)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


async def test_a_change_saved_while_a_resume_reads_its_members_still_reaches_the_device(store_url: str,
                                                                                         tmp_path: Path) -> None:
    """The members are read after the tenant's number: what changed in between is told, in the answer or next."""
    async with running_hub(tmp_path, store_url) as hub:
        held = await seed(hub, projection("work_order:WO-1", "OPEN", "ana"), projection("work_order:WO-2", "OPEN", "ana"))
        ana = ScopeDevice(hub)
        await ana.auth()
        hub.scopes.store = ChangedDuringTheRead(  # type: ignore[assignment]
            hub, projection("work_order:WO-2", "CLOSED", "ana"), projection("work_order:WO-3", "OPEN", "ana"))
        ana.members["resumed"] = {"work_order:WO-1", "work_order:WO-2"}  # what the device held at ``held``
        answer = await ana.subscribe("resumed", version=held)
        assert answer.members is None, "a diff"
        await ana.wait_members("resumed", {"work_order:WO-1", "work_order:WO-3"})
        await ana.finish()
