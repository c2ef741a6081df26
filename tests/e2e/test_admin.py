"""The admin API of a real hub process on both stores: every answer checked against what the test did."""

from __future__ import annotations

import asyncio

import pytest
from pycrdt import Map

from sync.protocol import AuthToken, Close, Stateless
from sync.protocol.control import ScopeMembers, Subscribe, encode_control
from tests.support.client import Denied, HubClient
from tests.support.hub import HubProcess
from tests.support.http import call

WO1, WO2 = "work_order:WO-1", "work_order:WO-2"
ROUTES = [
    ("GET", "/admin/connections", None), ("GET", "/admin/rooms", None), ("GET", "/admin/devices", None),
    ("GET", "/admin/devices/tablet-1", None), ("GET", "/admin/devices/tablet-1/scopes", None),
    ("POST", "/admin/devices/tablet-1/revoke", None), ("POST", "/admin/devices/tablet-1/restore", None),
    ("POST", "/admin/documents/compact", {"document": WO1}), ("POST", "/admin/documents/unload", {"document": WO1}),
    ("GET", "/admin/counts", None),
]


def admin_token(hub: HubProcess) -> str:
    return hub.token(sub="ops-1", device="console", roles=("admin",))


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_every_admin_route_refuses_without_a_token_and_without_the_admin_role(
    hub: HubProcess, method: str, path: str, body: object
) -> None:
    url = hub.http_url + path
    assert await call(url, method, body=body) == (401, {"code": "token_missing", "reason": "send Authorization: Bearer <an admin JWT>"})
    status, answer = await call(url, method, token=admin_token(hub) + "x", body=body)
    assert (status, answer["code"]) == (401, "token_invalid")
    status, answer = await call(url, method, token=hub.token(roles=("technician", "supervisor")), body=body)
    assert (status, answer["code"]) == (403, "forbidden") and "'admin'" in answer["reason"]
    expired = hub.token(roles=("admin",), ttl_seconds=-120)
    assert (await call(url, method, token=expired, body=body))[1]["code"] == "token_expired"


async def test_connections_rooms_devices_and_counts_match_what_two_devices_did(hub_on_store: HubProcess) -> None:
    hub, admin = hub_on_store, admin_token(hub_on_store)
    one_token = hub.token(sub="tech-1", device="tablet-1")
    two_token = hub.token(sub="tech-2", device="tablet-2")
    async with HubClient.connect(hub.ws_url) as one, HubClient.connect(hub.ws_url) as two:
        await one.open(WO1, one_token)
        await one.open(WO2, one_token)
        await two.open(WO1, two_token)
        for value in ("OPEN", "IN_PROGRESS", "DONE-ish"):
            assert await one.set_fields(WO1, {"summary": value})
        await two.wait_for(WO1, lambda doc: doc.get("record", type=Map).to_py().get("summary") == "DONE-ish")
        with pytest.raises(Denied, match="invalid_document_name"):
            await two.authenticate("not a name", two_token)
        await one.send_frame(AuthToken("$scopes", one_token))
        await one.send_frame(Stateless("$scopes", encode_control(Subscribe(id="jobs", scope="my_work_orders"))))
        await one._wait(lambda: any(isinstance(f, Stateless) and f.document == "$scopes" for f in one.frames), 10)
        await asyncio.sleep(0.2)  # let the last frames each way land

        status, answer = await call(hub.http_url + "/admin/connections", token=admin)
        assert status == 200, answer
        (node,) = answer["nodes"]  # one node: its own live entries, as before there were several
        assert node["local"] and not node["truncated"] and answer["partial"] is None
        connections = answer["connections"]
        assert {c["node"] for c in connections} == {node["node"]}
        by_device = {c["device"]: c for c in connections}
        assert set(by_device) == {"tablet-1", "tablet-2"}
        first = by_device["tablet-1"]
        assert first["user"] == "tech-1" and first["documents"] == ["$scopes", WO1, WO2]
        assert first["received"]["bytes"] == one.bytes_sent and first["sent"]["bytes"] == one.bytes_received
        assert first["received"]["frames_by_type"]["auth"] == 3 and first["acks_sent"] == 3 + 2  # 3 updates, 2 step 2
        assert first["acks_pending"] == 0 and first["refusals_sent"] == 0
        assert first["id"].startswith(first["node"] + "-") and first["since"] <= first["last_activity"]
        assert by_device["tablet-2"]["documents"] == [WO1]
        assert by_device["tablet-2"]["sent"]["frames_by_type"]["auth"] == 2  # Authenticated and PermissionDenied

        status, answer = await call(hub.http_url + "/admin/rooms", token=admin)
        assert status == 200 and [n["node"] for n in answer["nodes"]] == [node["node"]]
        rooms = answer["rooms"]
        assert [(r["document"], r["node"], r["subscribers"], r["log_length"]) for r in rooms] == [
            (WO1, node["node"], 2, 3), (WO2, node["node"], 1, 0)]
        assert rooms[0]["last_write"] is not None and rooms[1]["last_write"] is None and rooms[0]["size_bytes"] > 0

        status, compacted = await call(hub.http_url + "/admin/documents/compact", "POST", token=admin,
                                       body={"document": WO1})
        assert (status, compacted) == (200, {"document": WO1, "folded": 3, "log_length": 0})
        assert [r["log_length"] for r in (await call(hub.http_url + "/admin/rooms", token=admin))[1]["rooms"]] == [0, 0]

        status, answer = await call(hub.http_url + "/admin/documents/unload", "POST", token=admin, body={"document": WO2})
        assert (status, answer["code"]) == (409, "document_in_use")
        await one.send_frame(Close(WO2, ""))
        await asyncio.sleep(0.1)
        assert await call(hub.http_url + "/admin/documents/unload", "POST", token=admin, body={"document": WO2}) == (
            200, {"document": WO2, "unloaded": True})
        status, answer = await call(hub.http_url + "/admin/documents/unload", "POST", token=admin, body={"document": WO2})
        assert (status, answer["code"]) == (404, "document_not_loaded")

        status, page = await call(hub.http_url + "/admin/devices", token=admin)
        assert status == 200 and page["next"] is None
        devices = {d["device"]: d for d in page["devices"]}
        assert set(devices) == {"tablet-1", "tablet-2"}
        assert devices["tablet-1"]["user"] == "tech-1" and devices["tablet-1"]["connections"] == 1
        assert devices["tablet-1"]["last_sync"] is not None and devices["tablet-1"]["documents"] == [WO1]
        assert devices["tablet-1"]["scopes"] == ["my_work_orders(user=tech-1)"] and not devices["tablet-1"]["revoked"]
        assert (await call(hub.http_url + "/admin/devices?user=tech-2", token=admin))[1]["devices"][0]["device"] == "tablet-2"
        first_page = (await call(hub.http_url + "/admin/devices?limit=1", token=admin))[1]
        assert [d["device"] for d in first_page["devices"]] == ["tablet-1"] and first_page["next"] == "tablet-1"
        second_page = (await call(hub.http_url + "/admin/devices?limit=1&after=tablet-1", token=admin))[1]
        assert [d["device"] for d in second_page["devices"]] == ["tablet-2"] and second_page["next"] is None
        assert (await call(hub.http_url + "/admin/devices?revoked=true", token=admin))[1]["devices"] == []
        status, answer = await call(hub.http_url + "/admin/devices?seen_since=2026-01-01T00:00:00", token=admin)
        assert (status, answer["code"]) == (400, "bad_request")

        status, device = await call(hub.http_url + "/admin/devices/tablet-2", token=admin)
        assert status == 200 and device["user"] == "tech-2"
        status, answer = await call(hub.http_url + "/admin/devices/tablet-9", token=admin)
        assert (status, answer["code"]) == (404, "device_not_found")

        status, scopes = await call(hub.http_url + "/admin/devices/tablet-1/scopes", token=admin)
        assert status == 200 and scopes["recorded"] == ["my_work_orders(user=tech-1)"]
        (live,) = scopes["live"]
        assert (live["id"], live["scope"], live["params"], live["members"]) == ("jobs", "my_work_orders", {"user": "tech-1"}, [])

        status, counts = await call(hub.http_url + "/admin/counts", token=admin)
        assert status == 200 and counts == {"refusals": {"invalid_document_name": 1}, "conflicts": []}

    # another tenant's admin sees nothing of acme
    other = hub.token(sub="ops-9", tenant="globex", device="console", roles=("admin",))
    assert (await call(hub.http_url + "/admin/devices", token=other))[1] == {"devices": [], "next": None}
    assert (await call(hub.http_url + "/admin/rooms", token=other))[1]["rooms"] == []


async def test_the_openapi_document_lists_the_admin_routes_behind_a_bearer_token(hub: HubProcess) -> None:
    status, schema = await call(hub.http_url + "/schema/openapi.json")
    assert status == 200
    assert {"/admin/connections", "/admin/devices", "/admin/devices/{device}/revoke", "/admin/counts"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert schema["paths"]["/admin/rooms"]["get"]["security"] == [{"bearer": []}]
