"""``/api/records`` on both stores: filters, keyset pages, ETags, history, every refusal, compression."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.auth import JwtVerifier
from server.config import Settings
from sync.store import Projection
from tests.server.api.conftest import SECRET, TENANT, Api, bearer
from tests.support.hub import free_port
from tests.support.seed import seed_records

SUP = bearer()
NOW = datetime.now(UTC).replace(microsecond=0)


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


RECORDS: dict[str, dict[str, Any]] = {
    "work_order:WO-1": {"number": "WO-1", "title": "Replace pump seal", "status": "OPEN", "technician": "ana",
                        "due_at": iso(NOW - timedelta(hours=2))},
    "work_order:WO-2": {"number": "WO-2", "title": "Boiler inspection", "status": "IN_PROGRESS", "technician": "ben",
                        "due_at": iso(NOW + timedelta(days=2))},
    "work_order:WO-3": {"number": "WO-3", "title": "Pump overhaul", "status": "COMPLETED", "technician": "ana",
                        "due_at": iso(NOW - timedelta(days=1))},
    "warranty_claim:WC-1": {"claim_number": "WC-1", "status": "IN_REVIEW", "assignee": "ina", "team": "north",
                            "customer": {"customer_id": "C-9", "name": "Globex Ltd"}, "claim_amount": "120.00"},
}


async def seeded(api: Api) -> None:
    await seed_records(api.store, TENANT, RECORDS)
    await seed_records(api.store, "globex", {"work_order:WO-1": {"number": "WO-1", "status": "OPEN"}})


async def names(api: Api, **params: Any) -> list[str]:
    response = await api.client.get("/api/records", params={"sort": "name", **params}, headers=SUP)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def test_filters_select_records_of_the_tokens_tenant(api: Api) -> None:
    await seeded(api)

    assert await names(api) == ["warranty_claim:WC-1", "work_order:WO-1", "work_order:WO-2", "work_order:WO-3"]
    assert await names(api, type="work_order", status="OPEN") == ["work_order:WO-1"]
    assert await names(api, assignee="ana") == ["work_order:WO-1", "work_order:WO-3"]
    assert await names(api, team="north") == ["warranty_claim:WC-1"]
    assert await names(api, due_before=iso(NOW)) == ["work_order:WO-1", "work_order:WO-3"]
    assert await names(api, overdue="true") == ["work_order:WO-1"], "open and past due, judged now"
    assert await names(api, overdue="false", type="work_order") == ["work_order:WO-2", "work_order:WO-3"]
    assert await names(api, q="PUMP") == ["work_order:WO-1", "work_order:WO-3"]
    assert await names(api, q="globex") == ["warranty_claim:WC-1"], "the customer's name"
    assert await names(api, updated_since=iso(NOW + timedelta(days=1))) == []
    assert await names(api, sort="-name", limit=2) == ["work_order:WO-3", "work_order:WO-2"]

    page = (await api.client.get("/api/records", params={"type": "work_order", "fields": "title,status", "sort": "name",
                                                          "limit": 1}, headers=SUP)).json()
    [item] = page["items"]
    assert item["record"] == {"title": "Replace pump seal", "status": "OPEN"}, "only the fields asked for"
    assert (item["name"], item["type"], item["status"], item["assignee"], item["overdue"]) == (
        "work_order:WO-1", "work_order", "OPEN", "ana", True)
    assert page["next_cursor"]


async def test_a_token_without_a_reading_role_lists_nothing_and_reads_nothing(api: Api) -> None:
    await seeded(api)
    guest = bearer("guest", roles=["guest"])
    response = await api.client.get("/api/records", headers=guest)
    assert response.status_code == 200 and response.json() == {"items": [], "next_cursor": None}
    response = await api.client.get("/api/records/work_order:WO-1", headers=guest)
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    assert (await api.client.get("/api/records/work_order:WO-1/history", headers=guest)).status_code == 403


async def test_paging_10000_records_while_others_are_inserted_sees_each_once(api: Api) -> None:
    base = NOW - timedelta(days=30)
    rows = [
        Projection(tenant=TENANT, name=f"work_order:WO-{i:05d}", type="work_order", status="OPEN",
                   assignee=f"tech-{i % 7}", updated_at=base + timedelta(seconds=i // 3),
                   body={"record": {"number": f"WO-{i:05d}", "status": "OPEN"}})
        for i in range(10_000)
    ]
    for start in range(0, len(rows), 2000):
        await api.store.save_projections(rows[start:start + 2000])
    inserting = True

    async def insert_meanwhile() -> None:
        i = 0
        while inserting:
            await api.store.save_projections([
                Projection(tenant=TENANT, name=f"work_order:NEW-{i:05d}", type="work_order", status="OPEN",
                           assignee="tech-0", updated_at=datetime.now(UTC), body={"record": {"status": "OPEN"}})
            ])
            i += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(insert_meanwhile())
    try:
        for sort in ("-updated_at", "name"):
            seen: list[str] = []
            cursor = None
            while True:
                params = {"limit": 100, "sort": sort, **({"cursor": cursor} if cursor else {})}
                response = await api.client.get("/api/records", params=params, headers=SUP)
                assert response.status_code == 200, response.text
                page = response.json()
                seen += [item["name"] for item in page["items"]]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            old = [name for name in seen if "NEW" not in name]
            assert len(old) == len(set(old)) == 10_000, f"{sort}: every record once"
            assert len(seen) == len(set(seen)), f"{sort}: nothing repeated"
    finally:
        inserting = False
        await task


async def test_a_record_has_an_etag_and_answers_304_while_it_is_unchanged(api: Api) -> None:
    await seeded(api)
    url = "/api/records/work_order:WO-1"
    response = await api.client.get(url, headers=SUP)
    assert response.status_code == 200
    body, etag = response.json(), response.headers["etag"]
    assert body["record"]["title"] == "Replace pump seal" and body["overdue"] is True
    assert body["name"] == "work_order:WO-1" and body["status"] == "OPEN"

    again = await api.client.get(url, headers={**SUP, "If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and again.content == b""
    assert (await api.client.get(url, headers={**SUP, "If-None-Match": f'"other", W/{etag}'})).status_code == 304

    await seed_records(api.store, TENANT, {"work_order:WO-1": {**RECORDS["work_order:WO-1"], "title": "Seal and pump"}})
    changed = await api.client.get(url, headers={**SUP, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()["record"]["title"] == "Seal and pump"


async def test_unknown_and_other_tenants_records_are_404_and_bad_names_400(api: Api) -> None:
    await seeded(api)
    for name in ("work_order:WO-404", "warranty_claim:WC-1/internal", "gadget:G-1"):
        response = await api.client.get(f"/api/records/{name}", headers=SUP)
        assert response.status_code == 404 and response.json()["error"] == "not_found", name
    other = await api.client.get("/api/records/warranty_claim:WC-1", headers=bearer(tenant="globex"))
    assert other.status_code == 404, "another tenant's token reaches its own tenant only"
    response = await api.client.get("/api/records/no-colon", headers=SUP)
    assert response.status_code == 400 and response.json()["parameter"] == "name"
    assert (await api.client.get("/api/records/no-colon/history", headers=SUP)).json()["parameter"] == "name"
    assert (await api.client.get("/api/records/work_order:WO-404/history", headers=SUP)).status_code == 404


async def test_history_lists_each_stamped_write_and_the_log(api: Api) -> None:
    await seeded(api)
    response = await api.client.get("/api/records/work_order:WO-1/history", headers=SUP)
    assert response.status_code == 200
    history = response.json()
    fields = {write["field"]: write for write in history["writes"]}
    assert set(fields) == set(RECORDS["work_order:WO-1"])
    assert fields["title"]["value"] == "Replace pump seal"
    assert fields["title"]["user"] == "seed" and fields["title"]["device"] == "seed"
    assert datetime.fromisoformat(fields["title"]["at"]) <= datetime.now(UTC)
    hlcs = [write["hlc"] for write in history["writes"]]
    assert hlcs == sorted(hlcs, reverse=True), "newest first"
    assert len(history["log"]["stored_at"]) == 1 and history["log"]["compacted"] is False


BAD_LIST_PARAMS = [
    ({"stauts": "OPEN"}, "stauts"),
    ({"type": "gadget"}, "type"),
    ({"type": "warranty_claim/internal"}, "type"),
    ({"status": "DANCING"}, "status"),
    ({"type": "work_order", "status": "IN_REVIEW"}, "status"),
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
    ({"limit": "many"}, "limit"),
    ({"due_before": "yesterday"}, "due_before"),
    ({"due_before": "2026-01-05T08:00:00"}, "due_before"),
    ({"updated_since": "2026-01-05T08:00:00"}, "updated_since"),
    ({"overdue": "maybe"}, "overdue"),
    ({"sort": "body"}, "sort"),
    ({"sort": "--name"}, "sort"),
    ({"fields": "title,,status"}, "fields"),
    ({"fields": "secret"}, "fields"),
    ({"type": "policy", "fields": "technician"}, "fields"),
    ({"q": " "}, "q"),
    ({"q": "x" * 201}, "q"),
    ({"assignee": ""}, "assignee"),
    ({"team": "t" * 201}, "team"),
    ({"cursor": "!!!"}, "cursor"),
    ({"cursor": base64.urlsafe_b64encode(b"[1]").decode()}, "cursor"),
    ({"sort": "due_at", "cursor": base64.urlsafe_b64encode(b'{"o":"due_at","f":"","k":"soon","n":"a"}').decode()},
     "cursor"),
]


@pytest.mark.parametrize(("params", "parameter"), BAD_LIST_PARAMS, ids=[p for _, p in BAD_LIST_PARAMS])
async def test_every_bad_list_parameter_is_a_400_naming_it(api: Api, params: dict[str, str], parameter: str) -> None:
    response = await api.client.get("/api/records", params=params, headers=SUP)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "bad_parameter" and body["parameter"] == parameter and body["message"]


async def test_a_cursor_works_only_with_the_sort_and_filters_it_was_made_for(api: Api) -> None:
    await seeded(api)
    page = (await api.client.get("/api/records", params={"limit": 1, "assignee": "ana"}, headers=SUP)).json()
    cursor = page["next_cursor"]
    for params in ({"assignee": "ben"}, {"assignee": "ana", "sort": "name"}):
        response = await api.client.get("/api/records", params={"limit": 1, "cursor": cursor, **params}, headers=SUP)
        assert response.status_code == 400 and response.json()["parameter"] == "cursor"
    repeated = await api.client.get("/api/records?type=work_order&type=policy", headers=SUP)
    assert repeated.status_code == 400 and repeated.json()["parameter"] == "type"


@pytest.mark.parametrize("path", ["/api/records", "/api/records/work_order:WO-1", "/api/reports"])
async def test_tokens_are_required_and_checked(api: Api, path: str) -> None:
    cases = [
        ({}, "token_missing"),
        ({"Authorization": "Basic dXNlcjpwdw=="}, "token_missing"),
        ({"Authorization": "Bearer not.a.jwt"}, "token_invalid"),
        (bearer(ttl=-120), "token_expired"),
    ]
    for headers, code in cases:
        response = await api.client.get(path, headers=headers)
        assert response.status_code == 401 and response.json()["error"] == code, (headers, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_store_failures_are_503_with_a_retry_hint() -> None:
    unreachable = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    app = create_app(Settings(database_url=unreachable), verifier=JwtVerifier(secret=SECRET))
    async with AsyncTestClient(app) as client:
        for path in ("/api/records", "/api/records/work_order:WO-1", "/api/reports"):
            response = await client.get(path, headers=SUP)
            assert response.status_code == 503 and response.json()["error"] == "store_unavailable", path
            assert response.headers["retry-after"] == "1"


async def test_answers_over_1_kib_are_compressed_brotli_first_and_small_ones_are_not(api: Api) -> None:
    await seed_records(api.store, TENANT, {
        f"work_order:WO-{i}": {"number": f"WO-{i}", "title": "Replace the pump seal " * 3, "status": "OPEN"}
        for i in range(40)
    })
    big = {"limit": 40}
    brotli = await api.client.get("/api/records", params=big, headers={**SUP, "Accept-Encoding": "br, gzip"})
    assert brotli.headers["content-encoding"] == "br" and len(brotli.json()["items"]) == 40
    gzip = await api.client.get("/api/records", params=big, headers={**SUP, "Accept-Encoding": "gzip"})
    assert gzip.headers["content-encoding"] == "gzip"
    small = await api.client.get("/api/records", params={"limit": 1}, headers={**SUP, "Accept-Encoding": "br, gzip"})
    assert len(small.content) < 1024 and "content-encoding" not in small.headers
    plain = await api.client.get("/api/records", params=big, headers={**SUP, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and len(plain.content) > 1024
    assert json.loads(plain.content) == gzip.json()
