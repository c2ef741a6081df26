"""The hub's default access rules, enforced over the wire: opening, creating, writing, live revocation, expiry.

Every test runs a real hub (in-process sockets, real SQLite store) under ``sync/access/rules.toml``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pycrdt import Array

from sync.access import load_rules
from sync.hub import Hub
from sync.protocol import Authenticated, AuthToken, PermissionDenied, Sync, SyncStep
from tests.sync.replicas import Replica, conflicts_of, create, record
from tests.support.inproc import Connection, running_hub, token

CLAIM = "warranty_claim:WC-1"
JOB = "work_order:WO-1"


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    async with running_hub(tmp_path, access=load_rules()) as running:
        yield running


def customer(user: str, device: str = "phone") -> Replica:
    return Replica(CLAIM, user=user, device=device, roles=("customer",))


async def test_a_customer_opens_its_own_claim_and_never_another_customers(hub: Hub) -> None:
    await create(hub, CLAIM, {"status": "SUBMITTED", "customer": {"customer_id": "cust-1", "email": "a@x.test"}}, roles=("admin",))
    own, other = customer("cust-1"), customer("cust-2", "tablet")
    assert await own.connect(hub) == "read-write"
    assert await other.connect(hub) is None
    assert other.denied is not None and other.denied.startswith("forbidden: ")
    assert not [f for f in other.frames if isinstance(f, Sync)], "nothing of the claim reached the other customer"
    unknown = Replica("warranty_claim:WC-404", user="cust-2", device="t", roles=("customer",))
    assert await unknown.connect(hub) == "read-write", "a customer may create a claim"
    await unknown.close()
    viewer = Replica(CLAIM, user="v", device="w", roles=("viewer",))
    assert await viewer.connect(hub) == "readonly"


async def test_a_claim_created_for_another_customer_is_undone_whole_and_kept_for_review(hub: Hub) -> None:
    forger = customer("cust-2")
    forger.write_many({"status": "SUBMITTED", "customer": {"customer_id": "cust-1"}, "claim_amount": "9999"})
    assert await forger.connect(hub) == "read-write"
    forger.send(forger.updates[0])
    assert await forger.settled() == [True]
    await forger.live(lambda doc: record(doc) == {})
    assert {n.code for n in forger.notices()} == {"out_of_reach"}
    assert record(hub.rooms[("acme", CLAIM)].doc) == {}, "nothing of it stands"
    rows = await conflicts_of(hub, CLAIM)
    kept = {row.field: row.values[0] for row in rows if row.code == "out_of_reach"}
    assert kept["claim_amount"] == {"value": "9999", "user": "cust-2", "device": "phone"}
    honest = customer("cust-2", "laptop")
    honest.write_many({"status": "SUBMITTED", "customer": {"customer_id": "cust-2"}})
    assert await honest.connect(hub) == "read-write"
    honest.send(honest.updates[0])
    assert await honest.settled() == [True]


async def test_a_customer_may_add_notes_but_not_raise_the_amount_or_take_the_claim(hub: Hub) -> None:
    base = await create(hub, CLAIM, {"status": "SUBMITTED", "claim_amount": "100",
                                     "customer": {"customer_id": "cust-1"}}, roles=("admin",))
    own = Replica(CLAIM, user="cust-1", device="phone", roles=("customer",), base=base)
    assert await own.connect(hub) == "read-write"
    own.send(own.write("claim_amount", "100000"))
    own.send(own.append("notes", {"text": "photos attached"}))
    assert await own.settled() == [True, True]
    await own.live(lambda doc: record(doc).get("claim_amount") == "100")
    room = hub.rooms[("acme", CLAIM)]
    assert record(room.doc)["claim_amount"] == "100"
    assert [n["text"] for n in room.doc.get("notes", type=Array).to_py()] == ["photos attached"]
    assert [(n.code, n.field) for n in own.notices()] == [("field_not_writable", "claim_amount")]


async def test_a_technician_cannot_open_or_take_over_a_colleagues_work_order(hub: Hub) -> None:
    await create(hub, JOB, {"status": "OPEN", "technician": "tech-1", "team": "north"}, roles=("admin",))
    thief = Replica(JOB, user="tech-2", device="t2", roles=("technician",))
    assert await thief.connect(hub) is None, "another team's technician reaches nothing"
    teammate = Replica(JOB, user="tech-3", device="t3", roles=("technician",))
    assert await teammate.connect(hub, auth=teammate.token(teams=("north",))) == "readonly"
    teammate.send(teammate.write("technician", "tech-3"))
    assert await teammate.settled() == [False]
    assert record(hub.rooms[("acme", JOB)].doc)["technician"] == "tech-1"
    own = Replica(JOB, user="tech-1", device="t1", roles=("technician",))
    assert await own.connect(hub) == "read-write"
    await own.pull()
    own.send(own.write("technician", "tech-9"))
    assert await own.settled() == [True]
    await own.live(lambda doc: record(doc).get("technician") == "tech-1")
    assert [(n.code, n.field) for n in own.notices()] == [("field_not_writable", "technician")]


async def test_an_agent_cannot_touch_another_agents_policy(hub: Hub) -> None:
    name = "policy:POL-1"
    await create(hub, name, {"status": "DRAFT", "agent": "agent-1", "annual_premium": "900"}, roles=("admin",))
    other = Replica(name, user="agent-2", device="a2", roles=("agent",))
    assert await other.connect(hub) is None
    other.send(other.write("annual_premium", "1"))
    assert await other.settled() == [False]
    assert record(hub.rooms[("acme", name)].doc)["annual_premium"] == "900"


async def test_an_unassigned_technician_loses_the_document_live_and_its_next_edit_is_kept_for_review(hub: Hub) -> None:
    base = await create(hub, JOB, {"status": "OPEN", "technician": "tech-1"}, roles=("admin",))
    tech = Replica(JOB, user="tech-1", device="t1", roles=("technician",), base=base)
    assert await tech.connect(hub) == "read-write"
    office = Replica(JOB, user="sup", device="office", roles=("supervisor",), base=base)
    assert await office.connect(hub) == "read-write"
    began = time.monotonic()
    office.send(office.write("technician", "tech-2"))
    assert await office.settled() == [True]
    denied = await tech.conn.socket.wait_frame(PermissionDenied, document=JOB, timeout=1)
    assert time.monotonic() - began < 1
    assert denied.reason.startswith("access_revoked: ")
    seen = len(tech.frames)
    office.send(office.write("title", "secret new title"))
    assert await office.settled() == [True, True]
    await asyncio.sleep(0.1)
    assert not [f for f in tech.frames[seen:] if isinstance(f, Sync)], "nothing more of the document"
    tech.send(tech.append("notes", {"text": "replaced the seal before I knew"}))
    await tech.conn.socket.wait_notice(JOB, "write_rejected")
    assert "replaced the seal" not in str(hub.rooms[("acme", JOB)].doc.get("notes", type=Array).to_py())
    (row,) = [r for r in await hub.review_queue("acme") if r.kind == "rejected"]
    assert (row.name, row.values[0]["user"], row.values[0]["device"]) == (JOB, "tech-1", "t1")
    assert row.values[0]["update"], "its content is kept"


async def test_a_token_expiring_on_an_open_socket_ends_its_documents_and_a_fresh_token_goes_on(hub: Hub) -> None:
    await create(hub, JOB, {"status": "OPEN", "technician": "tech-1"}, roles=("admin",))
    conn = Connection(hub)
    conn.socket.push(AuthToken(JOB, token(sub="tech-1", ttl=2)))
    await conn.socket.wait_frame(Authenticated, document=JOB)
    expiry = time.monotonic() + 2
    denied = await conn.socket.wait_frame(PermissionDenied, document=JOB, timeout=4)
    assert denied.reason.startswith("token_expired: ")
    assert time.monotonic() - expiry < 1.0
    conn.socket.push(Sync(JOB, SyncStep.UPDATE, Replica(JOB, user="tech-1", device="d1", roles=("technician",)).write("title", "late")))
    await conn.socket.wait_notice(JOB, "not_authenticated")
    assert conn.socket.closed is None, "the socket stays for a fresh Auth"
    conn.socket.push(AuthToken(JOB, token(sub="tech-1")))
    await conn.socket.wait(lambda: len([f for f in conn.socket.received if isinstance(f, Authenticated)]) == 2)
    await conn.finish()


async def test_each_document_is_served_with_the_principal_of_its_own_token(hub: Hub) -> None:
    await create(hub, JOB, {"status": "OPEN", "technician": "tech-1"}, roles=("admin",))
    await create(hub, "work_order:WO-2", {"status": "OPEN", "technician": "tech-1"}, roles=("admin",))
    conn = Connection(hub)
    conn.socket.push(AuthToken(JOB, token(sub="sup", roles=("supervisor",))))
    await conn.socket.wait_frame(Authenticated, document=JOB, scope="read-write")
    conn.socket.push(AuthToken("work_order:WO-2", token(sub="v", roles=("viewer",))))
    await conn.socket.wait_frame(Authenticated, document="work_order:WO-2", scope="readonly")
    writer = Replica("work_order:WO-2", user="v", device="d1", roles=("viewer",))
    conn.socket.push(Sync("work_order:WO-2", SyncStep.UPDATE, writer.write("title", "x")))
    await conn.socket.wait_notice("work_order:WO-2", "readonly")
    await conn.finish()
