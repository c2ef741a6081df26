"""Sync scopes on the device, against a scripted hub that speaks the wire contract (``scripted_hub.py``).

Following, the members the hub sends (whole or as changes, on answer or live), what happens to documents that
leave, refusals, progress, and local queries by scope.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from client_sdk import (
    Connected, ErrorReported, LocalReplica, RecordError, Records, ReplicaError, ScopeUpdated,
    SyncClient, SyncProgress, SyncState, subscription_id,
)
from client_sdk.replica import projections
from sync.protocol import AuthToken, Stateless, Sync, SyncStep
from sync.protocol.control import SCOPES_DOCUMENT, ErrorNotice, ScopeMembers, Subscribe
from tests.client_sdk.devices import FAST, Device, Devices, eventually, holds
from tests.client_sdk.scripted_hub import ScriptedHub

SCOPE = "my_work_orders"
Replicas = Callable[..., Awaitable[LocalReplica]]
"""Opens a device's replica file (``replicas()`` opens ``tablet.db``)."""


@pytest.fixture
async def replicas(tmp_path: Path) -> AsyncIterator[Replicas]:
    """Opens the replica file of a device (again); every one is closed after the test, whatever happens."""
    opened: list[LocalReplica] = []

    async def open_replica(name: str = "tablet") -> LocalReplica:
        opened.append(await LocalReplica.open(tmp_path / f"{name}.db", device=name))
        return opened[-1]

    yield open_replica
    for replica in opened:
        await replica.close()


async def device(devices: Devices, scripted: ScriptedHub, name: str = "tablet") -> Device:
    return await devices.make(None, name, url=scripted.url, user="tech-1")


def work_orders(scripted: ScriptedHub, *ids: str, **fields: object) -> list[str]:
    return [scripted.seed(f"work_order:{id}", status="OPEN", technician="tech-1", title=f"Job {id}", **fields)
            for id in ids]


def events(device: Device, kind: type) -> list:
    return [event for event in device.events if isinstance(event, kind)]


# -- following and the first answer ---------------------------------------------------------------------


async def test_every_member_is_opened_at_once_on_the_connection_that_learnt_of_it(
        scripted: ScriptedHub, devices: Devices) -> None:
    names = scripted.members[SCOPE] = work_orders(scripted, *(f"WO-{i}" for i in range(25)))
    tablet = await device(devices, scripted)
    tablet.client.follow(SCOPE)
    scripted.hold_documents = True  # no document gets an answer until every Auth and step 1 has arrived
    tablet.client.start()

    def all_sent() -> bool:
        frames = scripted.peers[-1].frames if scripted.peers else []
        return (sorted(f.document for f in frames if isinstance(f, AuthToken) and f.document != SCOPES_DOCUMENT)
                == sorted(names)) and sum(isinstance(f, Sync) and f.step is SyncStep.STEP1 for f in frames) == 25

    await eventually(all_sent, 5)
    assert scripted.peers[-1].answered == 0, "not one document was answered: nothing waited for a round trip"
    frames = scripted.peers[-1].frames
    assert isinstance(frames[0], AuthToken) and frames[0].document == SCOPES_DOCUMENT
    assert isinstance(frames[1], Stateless) and frames[1].document == SCOPES_DOCUMENT
    pairs = frames[2:]
    assert [(type(f), f.document) for f in pairs] == [
        (kind, name) for name in sorted(names) for kind in (AuthToken, Sync)], "Auth then step 1, per document"

    await scripted.release()
    await tablet.sync()
    assert set(tablet.replica.followed()) == set(names)
    assert (await tablet.records.open("work_order:WO-7")).body["title"] == "Job WO-7"
    assert len(events(tablet, Connected)) == 1
    (sub,) = tablet.replica.scopes.subscriptions()
    assert (sub.id, sub.version) == (SCOPE, 1) and tablet.replica.scopes.members(SCOPE) == set(names)


async def test_a_scope_followed_while_online_is_subscribed_on_the_same_connection(
        scripted: ScriptedHub, devices: Devices) -> None:
    scripted.members[SCOPE] = work_orders(scripted, "WO-1", "WO-2")
    (other,) = work_orders(scripted, "WO-9")
    tablet = await device(devices, scripted)
    await tablet.replica.follow(other)
    await tablet.sync()
    assert scripted.auths(SCOPES_DOCUMENT) == [], "no scope followed: $scopes is left alone"

    assert await tablet.client.follow(SCOPE) == SCOPE
    await eventually(lambda: set(tablet.replica.followed()) == {other, *scripted.members[SCOPE]}, 5)
    await tablet.client.wait_synced(5)
    assert await holds(tablet, "work_order:WO-2")
    assert len(events(tablet, Connected)) == 1
    assert [sub.version for _, sub in scripted.subscribes] == [None], "the first subscribe holds no version"


async def test_following_works_offline_and_the_same_follow_twice_is_one_subscription(replicas: Replicas) -> None:
    replica = await replicas()
    client = SyncClient(replica, "ws://127.0.0.1:9/sync", "token", config=FAST)  # never started
    first = await client.follow("policy_with_claims", policy="POL-9", region="north")
    again = await client.follow("policy_with_claims", region="north", policy="POL-9", keep_removed=True)
    other = await client.follow("policy_with_claims", policy="POL-10")
    assert first == again == "policy_with_claims?policy=POL-9&region=north" != other
    with pytest.raises(TypeError):
        client.follow(SCOPE, user=17)  # type: ignore[arg-type]
    for bad in ({"scope": ""}, {"scope": SCOPE, "user": "x" * 200}):  # no name; an id the hub would refuse
        with pytest.raises(ValueError):
            client.follow(**bad)
    await client.close()
    await replica.close()

    reopened = await replicas()
    subs = {sub.id: sub for sub in reopened.scopes.subscriptions()}
    assert set(subs) == {first, other}
    assert subs[first].params == {"policy": "POL-9", "region": "north"} and subs[first].keep_removed
    assert subs[first].version is None and not subs[other].keep_removed


# -- later answers: versions, changes, whole lists ----------------------------------------------------


async def test_the_stored_version_is_sent_again_after_a_restart_and_the_changes_are_applied(
        scripted: ScriptedHub, devices: Devices, replicas: Replicas) -> None:
    w1, w2, w3 = work_orders(scripted, "WO-1", "WO-2", "WO-3")
    scripted.members[SCOPE], scripted.versions[SCOPE] = [w1, w2], 3
    tablet = await device(devices, scripted)
    tablet.client.follow(SCOPE)
    await tablet.sync()
    await tablet.client.close()
    await tablet.replica.close()
    devices.made.remove(tablet)

    def changes(sub: Subscribe) -> list:
        if sub.version != 3:
            return scripted.full_list(sub)
        return [ScopeMembers(id=sub.id, scope=sub.scope, params=sub.params, version=4, added=[w3], removed=[w1])]

    scripted.answer = changes
    replica = await replicas()
    client = SyncClient(replica, scripted.url, "token", config=FAST)
    try:
        assert set(replica.followed()) == {w1, w2}, "the members are followed from the file, before any answer"
        updates: list[ScopeUpdated] = []
        client.on_event(lambda event: updates.append(event) if isinstance(event, ScopeUpdated) else None)
        client.start()
        await client.wait_for(lambda c: c.state is SyncState.SYNCED and bool(updates), 10)
        assert [sub.version for _, sub in scripted.subscribes] == [None, 3]
        assert updates == [ScopeUpdated(subscription=SCOPE, scope=SCOPE, version=4, added=(w3,), removed=(w1,),
                                        complete=False)]
        assert set(replica.followed()) == {w2, w3}
        assert await replica.get(w1) is None, "a document that left the scope is deleted"
        assert (await replica.get(w3)).body["title"] == "Job WO-3"
        assert replica.scopes.get(SCOPE).version == 4
    finally:
        await client.close()
    await replica.close()
    reopened = await replicas()
    assert reopened.scopes.get(SCOPE).version == 4 and reopened.scopes.members(SCOPE) == {w2, w3}


async def test_a_whole_member_list_replaces_the_member_set(scripted: ScriptedHub, devices: Devices) -> None:
    a, b, c, d = work_orders(scripted, "WO-A", "WO-B", "WO-C", "WO-D")
    scripted.members[SCOPE] = [a, b, c]
    tablet = await device(devices, scripted)
    tablet.client.follow(SCOPE)
    await tablet.sync()
    await tablet.go_offline()

    scripted.members[SCOPE], scripted.versions[SCOPE] = [b, d], 7  # the device's version is too old to send changes
    await tablet.sync()
    assert [sub.version for _, sub in scripted.subscribes] == [None, 1]
    assert tablet.replica.scopes.members(SCOPE) == {b, d} and set(tablet.replica.followed()) == {b, d}
    assert [await holds(tablet, name) for name in (a, b, c, d)] == [False, True, False, True]
    (update,) = [event for event in events(tablet, ScopeUpdated) if event.version == 7]
    assert (update.added, update.removed, update.complete) == ((d,), (a, c), True)


async def test_members_pushed_live_are_opened_and_dropped_without_asking(
        scripted: ScriptedHub, devices: Devices) -> None:
    a, b = work_orders(scripted, "WO-A", "WO-B")
    scripted.members[SCOPE] = [a]
    tablet = await device(devices, scripted)
    tablet.client.follow(SCOPE)
    await tablet.sync()

    await scripted.push(ScopeMembers(id=SCOPE, scope=SCOPE, params={"user": "tech-1"}, version=2, added=[b]))
    await eventually(lambda: holds(tablet, b), 5)
    await tablet.client.wait_synced(5)
    await scripted.push(ScopeMembers(id=SCOPE, scope=SCOPE, params={"user": "tech-1"}, version=3,
                                     removed=[a, "policy:X"]))
    await eventually(lambda: a in scripted.closed(), 5)
    assert not await holds(tablet, a) and tablet.replica.followed() == [b]
    assert len(events(tablet, Connected)) == 1 and len(scripted.subscribes) == 1
    assert tablet.replica.scopes.get(SCOPE).version == 3


async def test_names_that_are_no_documents_are_ignored(replicas: Replicas) -> None:
    replica = await replicas()
    await replica.follow_scope(SCOPE)
    change = await replica.apply_scope_members(SCOPE, 1, members=["work_order:WO-1", SCOPES_DOCUMENT, "", "x"])
    assert change is not None and change.followed == ("work_order:WO-1",)
    assert replica.followed() == ["work_order:WO-1"]
    assert await replica.apply_scope_members("unknown_scope", 1, members=["work_order:WO-2"]) is None


# -- documents that leave ---------------------------------------------------------------------------


async def test_a_removed_document_is_kept_only_when_keep_removed_another_follow_or_unsent_edits_hold_it(
        scripted: ScriptedHub, devices: Devices) -> None:
    kept, dropped, shared, named, edited = work_orders(scripted, "WO-K", "WO-X", "WO-S", "WO-N", "WO-E")
    team = subscription_id("team_work", {"team": "north"})
    scripted.members = {SCOPE: [kept], "team_work": [dropped, shared, named, edited], "tenant": [shared]}
    tablet = await device(devices, scripted)
    tablet.client.follow(SCOPE, keep_removed=True)
    tablet.client.follow("team_work", team="north")
    tablet.client.follow("tenant")
    await tablet.replica.follow(named)
    await tablet.sync()
    assert set(tablet.replica.followed()) == {kept, dropped, shared, named, edited}

    scripted.silent.add(edited)  # the edit reaches the scripted, its acknowledgement does not come
    await tablet.records.set(edited, actual_minutes=30)
    await eventually(lambda: "actual_minutes" in scripted.record(edited), 5)
    scripted.members.update({SCOPE: [], "team_work": []})
    await scripted.push(ScopeMembers(id=SCOPE, scope=SCOPE, params={}, version=2, removed=[kept]))
    await scripted.push(ScopeMembers(id=team, scope="team_work", params={"team": "north"}, version=2,
                                removed=[dropped, shared, named, edited, "work_order:NEVER-HELD"]))
    await eventually(lambda: len(events(tablet, ScopeUpdated)) == 5, 5)

    assert set(tablet.replica.followed()) == {shared, named}
    assert [await holds(tablet, name) for name in (kept, dropped, shared, named, edited)] == [
        True, False, True, True, True]
    assert (await tablet.records.open(edited)).body["actual_minutes"] == 30, "an unsent edit is never lost"
    assert tablet.replica.scopes.leaving == {edited}
    assert sorted(scripted.closed()) == sorted([kept, dropped]), "the rest is still synced, or still sending"

    scripted.silent.clear()
    await scripted.drop()  # a new connection sends the edit again; once it is stored the document goes
    await eventually(lambda: tablet.client.pending == 0, 10)
    await eventually(lambda: not tablet.replica.scopes.leaving, 5)
    assert not await holds(tablet, edited) and edited not in tablet.replica.followed()
    assert scripted.record(edited)["actual_minutes"] == 30
    await eventually(lambda: edited in scripted.closed(), 5)


async def test_unfollow_unsubscribes_and_forgets_what_no_other_follow_holds(
        scripted: ScriptedHub, devices: Devices) -> None:
    a, b, c = work_orders(scripted, "WO-A", "WO-B", "WO-C")
    scripted.members = {SCOPE: [a, b], "tenant": [b, c]}
    tablet = await device(devices, scripted)
    tablet.client.follow(SCOPE)
    tablet.client.follow("tenant")
    await tablet.sync()

    change = await tablet.client.unfollow(SCOPE)
    assert change is not None and (change.unfollowed, change.deleted) == ((a,), (a,))
    await eventually(lambda: [u.id for u in scripted.unsubscribes] == [SCOPE], 5)
    await eventually(lambda: a in scripted.closed(), 5)
    assert not await holds(tablet, a) and set(tablet.replica.followed()) == {b, c}
    with pytest.raises(RecordError, match="not followed"):
        await tablet.records.query(scope=SCOPE)

    change = await tablet.client.unfollow("tenant", forget=False)
    assert change is not None and set(change.unfollowed) == {b, c} and change.deleted == ()
    assert tablet.replica.followed() == [] and await holds(tablet, b) and await holds(tablet, c)
    assert await tablet.client.unfollow("tenant") is None


async def test_a_failed_commit_of_members_changes_nothing(scripted: ScriptedHub, replicas: Replicas,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    replica = await replicas()
    records = Records(replica, user="tech-1", roles=["technician"])
    await replica.follow_scope(SCOPE)
    await replica.apply_scope_members(SCOPE, 1, members=["work_order:WO-1", "work_order:WO-2"])
    await replica.apply_remote("work_order:WO-1", scripted.docs[work_orders(scripted, "WO-1")[0]].get_update())

    async def broken_forget(*args: object) -> None:
        raise ReplicaError("disk full")

    monkeypatch.setattr(projections, "delete", broken_forget)
    with pytest.raises(ReplicaError):
        await replica.apply_scope_members(SCOPE, 2, members=["work_order:WO-2", "work_order:WO-3"])
    monkeypatch.undo()
    assert replica.scopes.get(SCOPE).version == 1
    assert replica.scopes.members(SCOPE) == {"work_order:WO-1", "work_order:WO-2"}
    assert (await records.open("work_order:WO-1")).status == "OPEN"
    await replica.close()
    reopened = await replicas()
    assert reopened.scopes.get(SCOPE).version == 1
    assert set(reopened.followed()) == {"work_order:WO-1", "work_order:WO-2"}


# -- refusals -------------------------------------------------------------------------------------


async def test_refusals_are_reported_and_not_retried_on_the_connection(scripted: ScriptedHub, devices: Devices) -> None:
    refusals = {"secret_scope": "forbidden", "no_such_scope": "unknown_scope", "team_work": "invalid_scope_params",
                "one_too_many": "too_many_scopes"}
    scripted.members[SCOPE] = work_orders(scripted, "WO-1")

    def answer(sub: Subscribe) -> list:
        if sub.scope in refusals:
            return [ErrorNotice(code=refusals[sub.scope], message="no", subscription=sub.id)]
        return scripted.full_list(sub)

    scripted.answer = answer
    tablet = await device(devices, scripted)
    for scope in refusals:
        tablet.client.follow(scope)
    tablet.client.follow(SCOPE)
    await tablet.sync()
    assert tablet.replica.followed() == ["work_order:WO-1"], "the other scope is served all the same"
    reported = {(e.error.subscription, e.error.code, e.error.document) for e in events(tablet, ErrorReported)}
    assert reported == {(scope, code, SCOPES_DOCUMENT) for scope, code in refusals.items()}
    await asyncio.sleep(0.8)  # several retry delays of the test config (0.2 s)
    assert sorted(sub.scope for _, sub in scripted.subscribes) == sorted([*refusals, SCOPE]), "each was sent once"

    await scripted.drop()  # a new connection asks again: the scripted may have changed its mind
    await eventually(lambda: len(scripted.subscribes) == 10, 10)


async def test_a_device_whose_only_scope_is_empty_or_refused_is_in_sync(
        scripted: ScriptedHub, devices: Devices) -> None:
    scripted.answer = lambda sub: [ErrorNotice(code="unknown_scope", message="no", subscription=sub.id)]
    refused = await device(devices, scripted, "refused")
    refused.client.follow("no_such_scope")
    await refused.sync(5)
    scripted.answer = scripted.full_list
    empty = await device(devices, scripted, "empty")
    empty.client.follow(SCOPE)
    await empty.sync(5)
    assert empty.replica.followed() == [] and empty.replica.scopes.get(SCOPE).version == 1


async def test_a_rate_limited_subscription_is_sent_again_after_retry_after(
        scripted: ScriptedHub, devices: Devices) -> None:
    scripted.members[SCOPE] = work_orders(scripted, "WO-1")
    refused: list[str] = []

    def answer(sub: Subscribe) -> list:
        if not refused:
            refused.append(sub.id)
            return [ErrorNotice(code="rate_limited", message="slow down", retry_after=0.6, subscription=sub.id)]
        return scripted.full_list(sub)

    scripted.answer = answer
    tablet = await device(devices, scripted)
    tablet.client.follow(SCOPE)
    await tablet.sync()
    assert tablet.replica.followed() == ["work_order:WO-1"]
    (first, _), (second, _) = scripted.subscribes
    assert second - first >= 0.55, "it waited as long as the hub asked, not the config's 0.2 s"
    assert [e.error.code for e in events(tablet, ErrorReported)] == ["rate_limited"]


async def test_a_refused_scopes_document_is_reported_and_the_records_still_sync(
        scripted: ScriptedHub, devices: Devices) -> None:
    (named,) = work_orders(scripted, "WO-1")
    scripted.scopes_denial = "forbidden: this token may follow no scope"
    tablet = await device(devices, scripted)
    tablet.client.follow(SCOPE)
    await tablet.replica.follow(named)
    await tablet.sync()
    assert await holds(tablet, named)
    assert [(e.error.code, e.error.document) for e in events(tablet, ErrorReported)] == [("forbidden", SCOPES_DOCUMENT)]
    await asyncio.sleep(0.6)
    assert scripted.auths(SCOPES_DOCUMENT) == [SCOPES_DOCUMENT] and scripted.subscribes == []


async def test_a_refused_token_on_scopes_stops_the_client(scripted: ScriptedHub, devices: Devices) -> None:
    scripted.scopes_denial = "token_expired: the token has expired"
    tablet = await device(devices, scripted)
    tablet.client.follow(SCOPE)
    tablet.client.start()
    await tablet.client.wait_for(lambda c: not c.running, 5)
    error = tablet.client.last_error
    assert error is not None and (error.code, error.fatal) == ("token_expired", True)


# -- progress and queries ---------------------------------------------------------------------------


async def test_progress_counts_every_member_up_to_the_total(scripted: ScriptedHub, devices: Devices) -> None:
    names = scripted.members[SCOPE] = work_orders(scripted, *(f"WO-{i:02d}" for i in range(12)))
    tablet = await device(devices, scripted)
    seen: list[tuple[int, int, int, int]] = []

    def on_progress(event: object) -> None:
        if isinstance(event, SyncProgress):
            status = tablet.client.status
            seen.append((event.synced, event.total, status.synced_documents, status.documents))

    tablet.client.on_event(on_progress)
    tablet.client.follow(SCOPE)
    assert tablet.client.status.documents == 0
    await tablet.sync()
    assert [(synced, total) for synced, total, _, _ in seen] == [(i, 12) for i in range(13)]
    assert all((synced, total) == (shown, documents) for synced, total, shown, documents in seen)
    status = tablet.client.status
    assert (status.documents, status.synced_documents) == (12, 12)
    assert events(tablet, SyncProgress)[-1] == SyncProgress(12, 12)
    await tablet.go_offline()
    assert tablet.client.status.documents == len(names), "offline, the followed documents are counted"


async def test_queries_by_scope_work_offline(scripted: ScriptedHub, devices: Devices, replicas: Replicas) -> None:
    w1, w2, w3 = work_orders(scripted, "WO-1", "WO-2", "WO-3")
    scripted.seed(w2, status="IN_PROGRESS")
    pol1 = scripted.seed("policy:POL-1", status="ACTIVE", agent="agent-1")
    claim = scripted.seed("insurance_claim:IC-1", status="REPORTED", policy_id="POL-1")
    pol2 = scripted.seed("policy:POL-2", status="ACTIVE", agent="agent-1")

    def answer(sub: Subscribe) -> list:
        members = {SCOPE: [w1, w2], "policy_with_claims?policy=POL-1": [pol1, claim],
                   "policy_with_claims?policy=POL-2": [pol2]}[sub.id]
        return [ScopeMembers(id=sub.id, scope=sub.scope, params=sub.params, version=1, members=members)]

    scripted.answer = answer
    tablet = await device(devices, scripted)
    tablet.client.follow(SCOPE)
    tablet.client.follow("policy_with_claims", policy="POL-1")
    tablet.client.follow("policy_with_claims", policy="POL-2")
    await tablet.replica.follow(w3)
    await tablet.sync()
    await tablet.client.close()
    devices.made.remove(tablet)
    await tablet.replica.close()

    records = Records(await replicas(), user="tech-1", roles=["technician"])  # the app starts again, offline

    async def names(**filters: object) -> list[str]:
        return sorted(view.name for view in await records.query(**filters))

    assert await names() == sorted([w1, w2, w3, pol1, claim, pol2])
    assert await names(scope=SCOPE) == [w1, w2]
    assert await names(scope=SCOPE, status="IN_PROGRESS") == [w2]
    assert await names(scope="policy_with_claims") == sorted([pol1, claim, pol2])
    assert await names(scope="policy_with_claims", scope_params={"policy": "POL-1"}) == sorted([pol1, claim])
    assert await names(scope="policy_with_claims?policy=POL-2") == [pol2]
    assert await names(scope="policy_with_claims", type="policy") == sorted([pol1, pol2])
    for unknown in ({"scope": "tenant"}, {"scope": "policy_with_claims", "scope_params": {"policy": "POL-3"}}):
        with pytest.raises(RecordError, match="not followed"):
            await records.query(**unknown)
