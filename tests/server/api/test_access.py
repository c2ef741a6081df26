"""The REST API under the hub's own access rules: a customer lists, reads and reports only its own claims."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.auth import JwtVerifier
from server.config import Settings
from sync.access import DEFAULT_ACCESS_FILE
from sync.store import SqlStore
from tests.server.api.conftest import SECRET, bearer
from tests.support.seed import seed_records

CLAIMS = {
    "warranty_claim:WC-1": {"claim_number": "WC-1", "status": "SUBMITTED", "customer": {"customer_id": "cust-1", "email": "one@x.test"}},
    "warranty_claim:WC-2": {"claim_number": "WC-2", "status": "SUBMITTED", "customer": {"customer_id": "cust-2", "email": "two@x.test"}},
}


@pytest.fixture
async def strict(store_url: str) -> AsyncIterator[AsyncTestClient]:
    store = SqlStore(store_url)
    await store.start()
    try:
        await seed_records(store, "acme", CLAIMS)
    finally:
        await store.close()
    app = create_app(Settings(database_url=store_url, access_file=str(DEFAULT_ACCESS_FILE)),
                     verifier=JwtVerifier(secret=SECRET))
    async with AsyncTestClient(app) as client:
        yield client


async def test_a_customer_never_sees_another_customers_claim(strict: AsyncTestClient) -> None:
    customer = bearer("cust-1", ("customer",))
    listed = await strict.get("/api/records", params={"type": "warranty_claim"}, headers=customer)
    assert listed.status_code == 200
    assert [item["name"] for item in listed.json()["items"]] == ["warranty_claim:WC-1"]
    assert "two@x.test" not in listed.text
    assert (await strict.get("/api/records/warranty_claim:WC-1", headers=customer)).status_code == 200
    other = await strict.get("/api/records/warranty_claim:WC-2", headers=customer)
    assert other.status_code in (403, 404) and "two@x.test" not in other.text
    history = await strict.get("/api/records/warranty_claim:WC-2/history", headers=customer)
    assert history.status_code in (403, 404)
    counts = await strict.get("/api/reports/status-counts", headers=customer)
    assert counts.status_code == 200 and "two@x.test" not in counts.text
    manager = await strict.get("/api/records", params={"type": "warranty_claim"}, headers=bearer("mgr", ("claims_manager",)))
    assert sorted(item["name"] for item in manager.json()["items"]) == sorted(CLAIMS)


async def test_a_customers_report_counts_only_its_own_claims(strict: AsyncTestClient) -> None:
    mine = (await strict.get("/api/reports/status-counts", headers=bearer("cust-1", ("customer",)))).json()
    everyone = (await strict.get("/api/reports/status-counts", headers=bearer("mgr", ("claims_manager",)))).json()
    assert _submitted(mine) == 1 and _submitted(everyone) == 2


def _submitted(report: object) -> int:
    """The count of SUBMITTED warranty claims, wherever the report nests it."""
    if isinstance(report, dict):
        if report.get("type") == "warranty_claim" and report.get("status") == "SUBMITTED" and "count" in report:
            return int(report["count"])
        if "warranty_claim" in report and isinstance(report["warranty_claim"], dict):
            inner = report["warranty_claim"]
            if isinstance(inner.get("SUBMITTED"), int):
                return inner["SUBMITTED"]
        return sum(_submitted(value) for value in report.values())
    if isinstance(report, list):
        return sum(_submitted(value) for value in report)
    return 0
