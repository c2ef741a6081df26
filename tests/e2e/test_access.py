"""Access rules on a real hub process, SQLite and Postgres: by name, through scopes, live revocation, expiry,
and the fields and texts a grant may write.

The hub runs its own default rules (``sync/access/rules.toml``), as ``bin/hub`` does.
"""

from __future__ import annotations

import asyncio
import base64
import time

import pytest
from pycrdt import Doc, Map, Text

from sync.access import DEFAULT_ACCESS_FILE
from sync.protocol import AuthToken, PermissionDenied, Stateless, Sync, SyncStep
from sync.protocol.control import SCOPES_DOCUMENT, ScopeMembers, Subscribe, decode_control, encode_control
from sync.store import SqlStore
from tests.support.client import Denied, HubClient
from tests.support.hub import HubProcess
from tests.support.stored import stored_conflicts, stored_doc

pytestmark = pytest.mark.hub_env(FIELDSYNC_ACCESS_FILE=str(DEFAULT_ACCESS_FILE))


async def seed(hub: HubProcess, records: dict[str, dict[str, object]]) -> None:
    """Records created by an admin's device."""
    async with HubClient.connect(hub.ws_url) as admin:
        for name, fields in records.items():
            await admin.open(name, hub.token(sub="admin-1", roles=("admin",)))
            assert await admin.set_fields(name, fields)


def edit(fields: dict[str, object]) -> bytes:
    doc = Doc()
    record = doc.get("record", type=Map)
    with doc.transaction():
        record.update(fields)
    return doc.get_update()


async def test_a_customer_reaches_its_own_claims_by_name_and_by_scope_and_nothing_else(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    await seed(hub, {
        "warranty_claim:WC-1": {"status": "SUBMITTED", "customer": {"customer_id": "cust-1", "phone": "555-0101"}},
        "warranty_claim:WC-2": {"status": "SUBMITTED", "customer": {"customer_id": "cust-2", "phone": "555-0202"}},
        "work_order:WO-1": {"status": "OPEN", "technician": "tech-1"},
    })
    mine = hub.token(sub="cust-1", roles=("customer",), device="phone-1")
    async with HubClient.connect(hub.ws_url) as device:
        doc = await device.open("warranty_claim:WC-1", mine)
        assert doc.get("record", type=Map)["customer"]["phone"] == "555-0101"
        for other in ("warranty_claim:WC-2", "work_order:WO-1"):
            with pytest.raises(Denied, match="forbidden"):
                await device.authenticate(other, mine)
        assert await device.authenticate(SCOPES_DOCUMENT, mine) == "read-write"
        await device.send_frame(Stateless(SCOPES_DOCUMENT, encode_control(Subscribe(id="all", scope="tenant"))))
        await device._wait(lambda: any(isinstance(f, Stateless) and f.document == SCOPES_DOCUMENT for f in device.frames), 10)
        (members,) = [m for f in device.frames if isinstance(f, Stateless) and f.document == SCOPES_DOCUMENT
                      if isinstance(m := decode_control(f.payload), ScopeMembers)]
        assert members.members == ["warranty_claim:WC-1"]
        assert "555-0202" not in repr(device.frames), "nothing of another customer's claim reached the device"


async def test_a_reassigned_technician_loses_the_document_within_a_second_and_its_edit_is_kept(
    hub_on_store: HubProcess,
) -> None:
    hub = hub_on_store
    name = "work_order:WO-7"
    await seed(hub, {name: {"status": "OPEN", "technician": "tech-1", "title": "Pump 3"}})
    async with HubClient.connect(hub.ws_url) as tech, HubClient.connect(hub.ws_url) as office:
        await tech.open(name, hub.token(sub="tech-1", device="tablet-1"))
        await office.open(name, hub.token(sub="sup-1", roles=("supervisor",), device="desk"))
        began = time.monotonic()
        assert await office.set_fields(name, {"technician": "tech-2"})
        await tech._wait(lambda: any(isinstance(f, PermissionDenied) and f.document == name for f in tech.frames), 1.0)
        assert time.monotonic() - began < 1.0
        denied = next(f for f in tech.frames if isinstance(f, PermissionDenied))
        assert denied.reason.startswith("access_revoked: ")
        assert await tech.send_update(name, edit({"title": "typed offline before I knew"})) is False
        await tech.wait_notice(name, "write_rejected")
        assert await office.set_fields(name, {"title": "Pump 3, second visit"})
        await asyncio.sleep(0.2)
        assert "second visit" not in repr(tech.frames), "nothing more of the document reached the technician"
    store = SqlStore(hub.database_url)
    await store.start()
    try:
        rows = await store.list_conflicts("acme", name=name)
    finally:
        await store.close()
    (row,) = [r for r in rows if r.kind == "rejected"]
    assert (row.values[0]["user"], row.values[0]["device"], row.needs_review) == ("tech-1", "tablet-1", True)
    kept = Doc()
    kept.apply_update(base64.b64decode(row.values[0]["update"]))
    assert kept.get("record", type=Map)["title"] == "typed offline before I knew"


async def test_writes_after_a_token_expired_are_refused_within_a_second(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    name = "work_order:WO-8"
    await seed(hub, {name: {"status": "OPEN", "technician": "tech-1"}})
    async with HubClient.connect(hub.ws_url) as tech:
        await tech.open(name, hub.token(sub="tech-1", ttl_seconds=2))
        expires = time.time() + 2
        await tech._wait(lambda: any(isinstance(f, PermissionDenied) for f in tech.frames), 4)
        assert time.time() - expires < 1.0
        assert next(f for f in tech.frames if isinstance(f, PermissionDenied)).reason.startswith("token_expired: ")
        assert await tech.send_update(name, edit({"title": "late"})) is False
        await tech.send_frame(AuthToken(name, hub.token(sub="tech-1")))
        await tech.send_frame(Sync(name, SyncStep.STEP1, tech.docs[name].get_state()))
        assert await tech.send_update(name, edit({"title": "with a fresh token"})) is True


def description(doc: Doc) -> str:
    return str(doc.get("description", type=Text))


async def type_into(client: HubClient, name: str, at: int, words: str) -> tuple[bool, bytes]:
    """Type ``words`` into the description at ``at`` (UTF-8 bytes) and send it as one update; the ack and update."""
    doc = client.docs[name]
    updates: list[bytes] = []
    subscription = doc.observe(lambda event: updates.append(event.update))
    doc.get("description", type=Text).insert(at, words)
    doc.unobserve(subscription)
    return await client.send_update(name, updates[0]), updates[0]


def holds(doc: Doc, update: bytes) -> bool:
    """True when ``doc`` has merged ``update`` already (merging it again adds nothing)."""
    copy = Doc()
    copy.apply_update(doc.get_update())
    state = copy.get_state()
    copy.apply_update(update)
    return copy.get_state() == state


async def test_a_customer_cannot_edit_its_claims_description_and_the_assigned_technician_can(
    hub_on_store: HubProcess,
) -> None:
    hub = hub_on_store
    name = "warranty_claim:WC-T1"
    await seed(hub, {name: {"status": "SUBMITTED", "assignee": "tech-1", "customer": {"customer_id": "cust-1"}}})
    async with HubClient.connect(hub.ws_url) as tech, HubClient.connect(hub.ws_url) as customer:
        await tech.open(name, hub.token(sub="tech-1", device="tablet-1"))
        await customer.open(name, hub.token(sub="cust-1", roles=("customer",), device="phone-1"))
        assert (await type_into(tech, name, 0, "Pump leaks"))[0]
        await customer.wait_for(name, lambda doc: description(doc) == "Pump leaks")

        stored, refused = await type_into(customer, name, len("Pump "), "never ")
        assert stored, "kept as sent (for review) and acknowledged; the hub's own update undoes it"
        notice = await customer.wait_notice(name, "field_not_writable")
        assert notice.field == "description"
        await customer.wait_for(name, lambda doc: description(doc) == "Pump leaks")
        await tech.wait_for(name, lambda doc: holds(doc, refused) and description(doc) == "Pump leaks")

        assert (await type_into(tech, name, len("Pump leaks"), " at the seal"))[0]
        await customer.wait_for(name, lambda doc: description(doc) == "Pump leaks at the seal")
        assert not tech.notices[name], "the technician's grant lists the description"

    doc, _ = await stored_doc(hub.database_url, "acme", name)
    assert description(doc) == "Pump leaks at the seal", "the hub's undoing is stored like any update"
    rows = await stored_conflicts(hub.database_url, name, until=lambda rows: any(r.field == "description" for r in rows))
    (row,) = [r for r in rows if r.field == "description"]
    assert (row.kind, row.code) == ("violation", "field_not_writable")
    assert row.values[0] == {"value": "Pump never leaks", "user": "cust-1", "device": "phone-1"}
    assert row.winner == {"value": "Pump leaks", "user": "hub"}
