"""Sync scopes on the device against a real hub process: seeded records arrive, resumes bring changes only,
refusals name their subscription."""

from __future__ import annotations

import asyncio

from client_sdk import Connected, ErrorReported, ScopeUpdated, SyncProgress
from sync.protocol.control import SCOPES_DOCUMENT
from tests.client_sdk.devices import Devices, eventually, holds, seed
from tests.support.hub import HubProcess

TECH = "tech-1"
SCOPE = "my_work_orders"


async def test_a_technician_following_my_work_orders_receives_the_seeded_ones(hub: HubProcess,
                                                                              devices: Devices) -> None:
    mine = {f"work_order:WO-{i}": {"status": "OPEN", "technician": TECH, "title": f"Job {i}"} for i in range(6)}
    others = {"work_order:WO-X1": {"status": "OPEN", "technician": "tech-2", "title": "theirs"},
              "work_order:WO-X2": {"status": "COMPLETED", "technician": TECH, "title": "done"}}
    await seed(hub, {**mine, **others})
    tablet = await devices.make(hub, "tablet", user=TECH)
    assert await tablet.client.follow(SCOPE) == SCOPE
    await tablet.sync()

    assert set(tablet.replica.followed()) == set(mine)
    assert [await holds(tablet, name) for name in others] == [False, False]
    progress = [event for event in tablet.events if isinstance(event, SyncProgress)]
    assert progress[-1] == SyncProgress(6, 6) and len(progress) >= 2
    status = tablet.client.status
    assert (status.documents, status.synced_documents) == (6, 6)
    assert tablet.replica.scopes.get(SCOPE).version is not None

    await tablet.go_offline()
    views = await tablet.records.query(scope=SCOPE)
    assert sorted((view.name, view.status, view.assignee, view.body["title"]) for view in views) == sorted(
        (name, "OPEN", TECH, fields["title"]) for name, fields in mine.items())


async def test_a_resume_brings_only_what_changed_while_the_device_was_away(hub: HubProcess, devices: Devices) -> None:
    mine = {f"work_order:WO-{i}": {"status": "OPEN", "technician": TECH, "title": f"Job {i}"} for i in range(3)}
    await seed(hub, mine)
    tablet = await devices.make(hub, "tablet", user=TECH)
    tablet.client.follow(SCOPE)
    await tablet.sync()
    version = tablet.replica.scopes.get(SCOPE).version
    await tablet.go_offline()

    office = await devices.make(hub, "office", user="dispatcher", roles=("supervisor",))
    await office.replica.follow("work_order:WO-0")
    await office.sync()
    await office.records.set("work_order:WO-0", technician="tech-9")  # reassigned: it leaves the scope
    await office.records.create("work_order", "WO-NEW", {"status": "OPEN", "technician": TECH, "title": "Boiler"})
    await office.sync()

    seen = len(tablet.events)
    await tablet.sync()
    # the changes come with the answer to the resumed subscription, or pushed just after it (once projected)
    await eventually(lambda: set(tablet.replica.followed()) == {"work_order:WO-1", "work_order:WO-2",
                                                                 "work_order:WO-NEW"}, 10)
    updates = [event for event in tablet.events[seen:] if isinstance(event, ScopeUpdated)]
    assert updates and not any(update.complete for update in updates), "the stored version was sent: no full list"
    assert updates[-1].version > version
    assert {name for update in updates for name in update.added} == {"work_order:WO-NEW"}
    assert {name for update in updates for name in update.removed} == {"work_order:WO-0"}
    assert not await holds(tablet, "work_order:WO-0")
    await tablet.client.wait_synced(10)  # a new member is followed first, its content arrives just after
    assert (await tablet.records.open("work_order:WO-NEW")).body["title"] == "Boiler"


async def test_refused_subscriptions_are_reported_once_and_the_rest_is_served(hub: HubProcess,
                                                                             devices: Devices) -> None:
    await seed(hub, {"work_order:WO-1": {"status": "OPEN", "technician": TECH, "title": "Job"}})
    tablet = await devices.make(hub, "tablet", user=TECH)
    tablet.client.follow("no_such_scope")
    tablet.client.follow(SCOPE, region="north")  # a param it does not take
    tablet.client.follow(SCOPE, user="tech-other")  # another user's jobs: for supervisors, not technicians
    tablet.client.follow(SCOPE)
    await tablet.sync()
    await asyncio.sleep(0.8)  # several retry delays of the test config
    refusals = sorted((e.error.subscription, e.error.code) for e in tablet.events
                      if isinstance(e, ErrorReported) and e.error.document == SCOPES_DOCUMENT)
    assert refusals == [("my_work_orders?region=north", "invalid_scope_params"),
                        ("my_work_orders?user=tech-other", "forbidden"), ("no_such_scope", "unknown_scope")]
    assert tablet.replica.followed() == ["work_order:WO-1"]
    assert sum(isinstance(e, Connected) for e in tablet.events) == 1
