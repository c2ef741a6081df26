"""``/api/conflicts`` on a real hub: the queue with both values, who and when; resolution by reviewers only."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sync import InProcessCache
from sync.store import upgrade
from tests.server.api.inproc_app import SUP, Running, bearer, running
from tests.sync.replicas import T0, Replica, at, converged, create, record

NAME = "warranty_claim:WC-9"
MANAGER = bearer("mgr-1", "claims_manager")


async def two_final_statuses(hub: Running) -> list[Replica]:
    """A status conflict that needs review (COMPLETED against REJECTED), and the violation it leaves."""
    base = await create(hub.hub, NAME, {"status": "SUBMITTED", "claim_number": "C-9"}, roles=("claims_manager",),
                        steps=({"status": "IN_REVIEW"}, {"status": "APPROVED"}, {"status": "PROCESSING"}))
    a = Replica(NAME, user="mgr-a", device="desk-a", roles=("claims_manager",), wall_ms=at(T0), base=base)
    b = Replica(NAME, user="mgr-b", device="desk-b", roles=("claims_manager",), wall_ms=at(T0 + 10), base=base)
    a.write("status", "COMPLETED")
    b.write("status", "REJECTED")
    for replica in (a, b):
        await replica.connect(hub.hub)
    a.send(a.updates[0])
    assert await a.settled() == [True]
    b.send(b.updates[0])
    assert await b.settled() == [True]
    await converged(hub.hub, NAME, a, b)
    await hub.hub.review_queue("acme")  # the referee's rows are stored
    return [a, b]


async def listed(hub: Running, headers: dict[str, str] = SUP, **params: Any) -> list[dict[str, Any]]:
    response = await hub.http.get("/api/conflicts", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


async def test_the_queue_shows_both_values_with_who_and_when_and_a_reviewer_resolves_it(store_url: str) -> None:
    async with running(store_url, InProcessCache()) as hub:
        replicas = await two_final_statuses(hub)

        items = await listed(hub)
        assert {item["kind"] for item in items} == {"conflict", "violation"}
        [queued] = await listed(hub, needs_review="true")
        assert (queued["name"], queued["field"], queued["status"]) == (NAME, "status", "open")
        assert sorted(v["value"] for v in queued["values"]) == ["COMPLETED", "REJECTED"]
        assert {(v["user"], v["device"]) for v in queued["values"]} == {("mgr-a", "desk-a"), ("mgr-b", "desk-b")}
        assert all(v["at"].startswith("20") for v in queued["values"]), "when each value was written"
        [violation] = await listed(hub, kind="violation")
        assert violation["code"] == "invalid_transition" and violation["winner"]["user"] == "hub"
        assert await listed(hub, status="resolved") == []
        assert await listed(hub, name="warranty_claim:WC-1") == []
        assert await listed(hub, bearer("other", "supervisor", tenant="globex")) == [], "the token's tenant only"
        assert await listed(hub, bearer("guest", "guest")) == [], "only conflicts of records the token may read"

        url = f"/api/conflicts/{queued['id']}/resolve"
        for headers in (bearer("tech", "technician"), bearer("watch", "viewer"), bearer("guest", "guest")):
            response = await hub.http.post(url, json={"value": "REJECTED"}, headers=headers)
            assert response.status_code == 403 and response.json()["error"] == "forbidden", headers
        refused = await hub.http.post(url, json={"value": "DANCING"}, headers=MANAGER)
        assert refused.status_code == 400 and refused.json()["parameter"] == "value"
        for body in ({}, {"value": "REJECTED", "extra": 1}, []):
            assert (await hub.http.post(url, json=body, headers=MANAGER)).status_code == 400, body
        missing = await hub.http.post("/api/conflicts/999999/resolve", json={"value": "REJECTED"}, headers=MANAGER)
        assert missing.status_code == 404

        response = await hub.http.post(url, json={"value": "REJECTED"}, headers=MANAGER)
        assert response.status_code == 200, response.text
        resolved = response.json()
        assert (resolved["status"], resolved["resolved_by"], resolved["resolution"]) == (
            "resolved", "mgr-1", {"value": "REJECTED"})
        for replica in replicas:  # an ordinary hub write: every connected replica receives it
            await replica.live(lambda doc: record(doc).get("status") == "REJECTED")
        await converged(hub.hub, NAME, *replicas)
        again = await hub.http.post(url, json={"value": "COMPLETED"}, headers=MANAGER)
        assert again.status_code == 409 and again.json()["error"] == "conflict_resolved"
        assert [item["id"] for item in await listed(hub, status="resolved", kind="conflict")] == [queued["id"]]
        assert await listed(hub, needs_review="true") == []
        async with asyncio.timeout(5):  # the projector's own loop may be writing it already
            while [item["status"] for item in (await hub.get("/api/records?type=warranty_claim"))["items"]] != [
                "REJECTED"
            ]:
                await hub.hub.flush_projections()
                await asyncio.sleep(0.02)
        for replica in replicas:
            await replica.close()


@pytest.mark.parametrize(("params", "parameter"), [
    ({"status": "done"}, "status"), ({"kind": "clash"}, "kind"), ({"limit": "0"}, "limit"),
    ({"needs_review": "perhaps"}, "needs_review"), ({"sort": "id"}, "sort"),
])
async def test_bad_queue_parameters_are_400s_naming_them(
    sqlite_url: str, params: dict[str, str], parameter: str
) -> None:
    await upgrade(sqlite_url)
    async with running(sqlite_url, InProcessCache()) as hub:
        response = await hub.http.get("/api/conflicts", params=params, headers=SUP)
        assert response.status_code == 400 and response.json()["parameter"] == parameter
        no_token = await hub.http.post("/api/conflicts/1/resolve", json={"value": "X"})
        assert no_token.status_code == 401
