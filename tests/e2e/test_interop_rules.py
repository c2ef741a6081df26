"""A stock ``@hocuspocus/provider`` client under the hub's own access rules and domain rules (real hub, both stores).

Its writes carry no stamps; the hub stamps them for the token's user and device and judges them like any other.
"""

from __future__ import annotations

import json

import pytest
from pycrdt import Map, Text

from sync.access import DEFAULT_ACCESS_FILE
from tests.e2e.test_interop import EXIT_OK, node_bin, run_node  # noqa: F401  (node_bin is a fixture)
from tests.support.client import HubClient
from tests.support.hub import HubProcess
from tests.support.stored import stored_conflicts

pytestmark = pytest.mark.hub_env(FIELDSYNC_ACCESS_FILE=str(DEFAULT_ACCESS_FILE))


async def seed(hub: HubProcess, name: str, fields: dict[str, object]) -> None:
    async with HubClient.connect(hub.ws_url) as admin:
        await admin.open(name, hub.token(sub="admin-1", roles=("admin",)))
        assert await admin.set_fields(name, fields)


async def test_a_stock_client_jumping_a_claim_to_completed_is_reverted_everywhere_and_recorded(
    node_bin: str, hub_on_store: HubProcess,  # noqa: F811
) -> None:
    hub, name = hub_on_store, "warranty_claim:WC-9"
    await seed(hub, name, {"status": "SUBMITTED", "customer": {"customer_id": "cust-9"}})
    token = hub.token(sub="cust-9", device="phone-9", roles=("customer",))
    result = await run_node(node_bin, hub.ws_url, token, name, "set", "status", "COMPLETED")
    assert result.returncode == EXIT_OK, result.describe()
    assert result.payload["record"]["status"] == "SUBMITTED", "the stock client's own replica was corrected"
    async with HubClient.connect(hub.ws_url) as watcher:
        doc = await watcher.open(name, hub.token(sub="mgr", roles=("claims_manager",), device="desk"))
        assert doc.get("record", type=Map)["status"] == "SUBMITTED"
    stored = await stored_conflicts(hub.database_url, name, until=lambda rows: any(r.field == "status" for r in rows))
    rows = [row for row in stored if row.field == "status"]
    assert rows and rows[0].code == "invalid_transition"
    assert rows[0].values[0]["value"] == "COMPLETED" and rows[0].values[0]["user"] == "cust-9"


async def test_a_stock_agent_client_sets_the_premium_of_its_own_policy_and_no_other(
    node_bin: str, hub_on_store: HubProcess,  # noqa: F811
) -> None:
    hub = hub_on_store
    await seed(hub, "policy:POL-1", {"status": "DRAFT", "agent": "agent-1", "annual_premium": "900"})
    await seed(hub, "policy:POL-2", {"status": "DRAFT", "agent": "agent-2", "annual_premium": "900"})
    token = hub.token(sub="agent-1", device="laptop", roles=("agent",))
    result = await run_node(node_bin, hub.ws_url, token, "policy:POL-1", "set", "annual_premium", "950")
    assert result.returncode == EXIT_OK, result.describe()
    assert result.payload["record"]["annual_premium"] == "950"
    other = await run_node(node_bin, hub.ws_url, token, "policy:POL-2", "set", "annual_premium", "1")
    assert other.payload.get("error") == "permission-denied" and "forbidden" in other.payload.get("reason", "")
    async with HubClient.connect(hub.ws_url) as watcher:
        for name, premium in (("policy:POL-1", "950"), ("policy:POL-2", "900")):
            doc = await watcher.open(name, hub.token(sub="sup", roles=("supervisor",), device="desk"))
            assert doc.get("record", type=Map)["annual_premium"] == premium


async def test_a_stock_customer_client_typing_into_its_claims_description_is_undone_everywhere(
    node_bin: str, hub_on_store: HubProcess,  # noqa: F811
) -> None:
    hub, name = hub_on_store, "warranty_claim:WC-10"
    await seed(hub, name, {"status": "SUBMITTED", "assignee": "tech-9", "customer": {"customer_id": "cust-9"}})

    def typing(index: int, text: str) -> str:
        return json.dumps({"insert": {"description": [[index, text]]}})

    technician = hub.token(sub="tech-9", device="tablet-9")
    typed = await run_node(node_bin, hub.ws_url, technician, name, "edit", typing(0, "Pump 😀 leaks"))
    assert typed.returncode == EXIT_OK and typed.payload["roots"]["description"] == "Pump 😀 leaks", typed.describe()
    customer = hub.token(sub="cust-9", device="phone-9", roles=("customer",))
    # Yjs counts UTF-16 units ("Pump 😀 " is 8), the hub's document UTF-8 bytes: the undoing must not mind
    result = await run_node(node_bin, hub.ws_url, customer, name, "edit", typing(8, "é never "))
    assert result.returncode == EXIT_OK, result.describe()
    assert result.payload["roots"]["description"] == "Pump 😀 leaks", "the stock client's own replica was corrected"
    async with HubClient.connect(hub.ws_url) as watcher:
        doc = await watcher.open(name, hub.token(sub="mgr", roles=("claims_manager",), device="desk"))
        assert str(doc.get("description", type=Text)) == "Pump 😀 leaks"
    rows = await stored_conflicts(hub.database_url, name, until=lambda rows: any(r.field == "description" for r in rows))
    (row,) = [r for r in rows if r.field == "description"]
    assert row.code == "field_not_writable"
    assert row.values[0] == {"value": "Pump 😀 é never leaks", "user": "cust-9", "device": "phone-9"}
