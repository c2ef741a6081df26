"""Property: random concurrent offline edits of every record type, delivered to a real hub over real sessions
in random interleavings, with duplicates and whole-state reconnects, converge on every replica, in the store
and in the projection, and the final state keeps every domain rule.

The hub and its store live for one test item (one record type, one backend); each example works on a new
document. Devices and the hub have injected clocks, so an example replays identically when Hypothesis shrinks it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pycrdt import Array, Map

from conflict import LIFECYCLES, Hlc, allowed_targets, parse_clocks, record_type_for, resolve_record
from sync.hub import Hub
from sync.documents.projection import project
from tests.sync.replicas import T0, Replica, content, create, record
from tests.support.inproc import running_hub


@dataclass(frozen=True)
class Spec:
    """What devices may do to one record type in these examples."""

    creator_roles: tuple[str, ...]
    create: dict[str, Any]
    roles: tuple[tuple[str, ...], ...]
    fields: dict[str, tuple[Any, ...]]
    payments: bool = False
    lists: tuple[str, ...] = ("notes",)


SPECS = {
    "work_order": Spec(
        ("supervisor",), {"status": "OPEN", "title": "Pump"},
        (("technician",), ("supervisor",), ("technician", "supervisor")),
        {"priority": ("LOW", "HIGH"), "title": ("a", "b"), "technician": ("t1", "t2"), "actual_minutes": (15, 30)},
    ),
    "warranty_claim": Spec(
        ("customer",), {"status": "SUBMITTED", "claim_amount": "80.00"},
        (("customer",), ("technician",), ("claims_agent",), ("claims_manager",)),
        {"priority": ("LOW", "HIGH"), "assignee": ("a1", "a2"), "claim_amount": ("10.00", "20.00")}, payments=True,
    ),
    "policy": Spec(
        ("agent",), {"status": "DRAFT", "annual_premium": "500.00"},
        (("agent",), ("customer",)),
        {"agent": ("ag1", "ag2"), "payment_frequency": ("MONTHLY", "ANNUAL"), "annual_premium": ("600.00", "1.00"),
         "deductible": ("100.00", "0.00")},
    ),
    "insurance_claim": Spec(
        ("customer",), {"status": "REPORTED", "claim_type": "water"},
        (("customer",), ("adjuster",), ("claims_manager",), ("claims_agent",)),
        {"severity": ("MINOR", "MAJOR"), "adjuster": ("adj1", "adj2"), "claim_type": ("fire", "theft")}, payments=True,
    ),
    "warranty_claim/internal": Spec(
        ("claims_manager",), {"fraud_suspected": {"suspected": False}},
        (("technician",), ("claims_agent",), ("claims_manager",)),
        {"fraud_suspected": ({"suspected": True, "reason": "serial"}, {"suspected": False})}, lists=("internal_notes",),
    ),
}
ACTIONS = ("status", "status", "set", "set", "append", "payment", "forge", "raw", "erase")
_documents = itertools.count()


@dataclass
class Device:
    replica: Replica
    sent: int = 0  # how many of its updates went out in order


def document_name(kind: str) -> str:
    base, _, part = kind.partition("/")
    name = f"{base}:P-{next(_documents)}"
    return f"{name}/{part}" if part else name


def offline_edit(data: st.DataObject, spec: Spec, kind: str, device: Replica) -> None:
    """One random edit (one update) on ``device``; some are allowed, some are not."""
    action = data.draw(st.sampled_from(ACTIONS))
    lifecycle = LIFECYCLES.get(kind)
    if action == "status" and lifecycle is not None:
        current = record(device.doc).get("status")
        allowed = allowed_targets(kind, current, device.roles)
        pool = allowed if allowed and data.draw(st.booleans()) else lifecycle.statuses
        device.write("status", data.draw(st.sampled_from(pool)))
    elif action in ("set", "status", "forge", "raw"):
        name = data.draw(st.sampled_from(sorted(spec.fields)))
        value = data.draw(st.sampled_from(spec.fields[name]))
        if action == "forge":  # a stamp claiming a role the token lacks
            device.write(name, value, roles=(*device.roles, "admin"))
        elif action == "raw":  # a stock Yjs client: no stamp at all
            device.edit(lambda doc: doc.get("record", type=Map).__setitem__(name, value))
        else:
            device.write(name, value)
    elif action == "payment" and spec.payments:
        status = data.draw(st.sampled_from(("PENDING", "PAID")))
        device.append("payments", {"id": f"p{data.draw(st.integers(0, 1))}", "amount": "5.00", "status": status})
    elif action == "erase" and (device.doc.get(spec.lists[0], type=Array).to_py() or []):
        device.edit(lambda doc: doc.get(spec.lists[0], type=Array).pop(0))
    else:
        device.append(spec.lists[0], {"text": f"{device.device}: {data.draw(st.sampled_from(['x', 'y', 'z']))}"})


async def deliver(data: st.DataObject, devices: list[Device]) -> None:
    """Each device's updates in its own order (one socket each), interleaved at random, with re-sends and
    whole-state step 2s; every one is acknowledged before the next step, so an example replays exactly."""
    while any(d.sent < len(d.replica.updates) for d in devices):
        device = data.draw(st.sampled_from([d for d in devices if d.sent < len(d.replica.updates)]))
        how = data.draw(st.sampled_from(("next", "next", "next", "again", "state")))
        replica = device.replica
        if how == "again" and device.sent:
            replica.send(replica.updates[data.draw(st.integers(0, device.sent - 1))])
        elif how == "state":
            replica.send_state()
            device.sent = len(replica.updates)
        else:
            replica.send(replica.updates[device.sent])
            device.sent += 1
        assert all(await replica.settled()), "updates in order, duplicates and step 2s are all stored"


@pytest.fixture
async def domain_hub(tmp_path: Path, store_url: str) -> AsyncIterator[Hub]:
    """One hub for all the examples of a test item; each example uses a document of its own."""
    async with running_hub(tmp_path, url=store_url, projection_interval_ms=10) as hub:
        yield hub


@pytest.mark.parametrize("kind", sorted(SPECS))
@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
async def test_random_offline_edits_converge_and_keep_every_rule(
    domain_hub: Hub, kind: str, data: st.DataObject
) -> None:
    hub, spec = domain_hub, SPECS[kind]
    name = document_name(kind)
    # the hub's own stamps on an injected clock too, somewhere among the devices' times
    hub.referee.writer.clock = Hlc("hub-test", clock=itertools.count(T0 + data.draw(st.integers(0, 3_000)), 1).__next__)
    base = await create(hub, name, spec.create, roles=spec.creator_roles)
    count = data.draw(st.integers(2, 4))
    devices: list[Device] = []
    for index in range(count):
        roles = data.draw(st.sampled_from(spec.roles))
        start = T0 + data.draw(st.integers(0, 3_000))
        replica = Replica(name, user=f"user-{index}", device=data.draw(st.sampled_from(("a", "m", "z"))) + f"-{index}",
                          roles=roles, wall_ms=itertools.count(start, 100).__next__, base=base,
                          client_id=data.draw(st.integers(1, 2**26)) * 8 + index)  # distinct per doc
        for _ in range(data.draw(st.integers(1, 4))):
            offline_edit(data, spec, kind, replica)
        devices.append(Device(replica))
    late = Replica(name, user="late", device="late-1", roles=("admin",))  # joins once it is all over
    try:
        for device in devices:
            assert await device.replica.connect(hub) == "read-write"
        await deliver(data, devices)
        assert await late.connect(hub) == "read-write"
        await check_converged(hub, name, [d.replica for d in devices] + [late])
        await check_rules(hub, name, kind, spec, [d.replica for d in devices])
    finally:
        for replica in [d.replica for d in devices] + [late]:
            await replica.close()


async def check_converged(hub: Hub, name: str, replicas: list[Replica]) -> None:
    room = hub.rooms[("acme", name)]
    assert room.watch is not None
    kind = room.watch.record_type
    expected = content(room.doc, kind)
    for replica in replicas:
        await replica.pull()
        assert content(replica.doc, kind) == expected, f"{replica.device} differs from the hub"
    await hub.committer.drain()
    stored = await hub.store.load("acme", name)
    rebuilt = Replica(name, user="x", device="x", roles=())
    for update in ([stored.snapshot] if stored.snapshot else []) + stored.updates:
        rebuilt.doc.apply_update(update)
    assert content(rebuilt.doc, kind) == expected, "the store holds the same document"
    if "/" in name:
        return
    def view(projection: Any) -> tuple[Any, ...]:
        return projection.type, projection.status, projection.assignee, projection.body

    for _ in range(200):  # the projector runs in the background: wait until it has caught up
        await hub.flush_projections()
        row = await hub.store.get_projection("acme", name)
        if row is not None and view(row) == view(project("acme", name, room.doc, now=row.updated_at)):
            break
        await asyncio.sleep(0.01)
    assert row is not None
    for replica in replicas:
        assert view(project("acme", name, replica.doc, now=row.updated_at)) == view(row), replica.device


async def check_rules(hub: Hub, name: str, kind_name: str, spec: Spec, replicas: list[Replica]) -> None:
    kind = record_type_for(name)
    doc = hub.rooms[("acme", name)].doc
    final, clocks, lists, _ = content(doc, kind)
    roles_of = {r.user: set(r.roles) for r in replicas} | {"office": set(spec.creator_roles), "hub": {"admin"}}
    devices = {r.device: r for r in replicas}

    table = parse_clocks(clocks)
    assert table.problems == ()
    for stamps in table.by_field.values():
        for stamp in stamps:
            if stamp.device.startswith("hub-") or stamp.device == "office-pc":
                continue
            author = devices[stamp.device]
            assert stamp.user == author.user and stamp.roles <= set(author.roles), f"forged stamp kept: {stamp}"
    for resolution in resolve_record(kind, final, clocks):
        assert not resolution.needs_correction, f"{resolution.field} is not the policy's value"

    lifecycle = LIFECYCLES.get(kind_name)
    if lifecycle is not None:
        status = None
        for entry in lists["history"]:
            assert entry.get("old") == status, "history entries chain"
            transition = lifecycle.find(status, entry["new"])
            assert transition is not None and not transition.roles.isdisjoint(roles_of[entry["by"]]), entry
            status = entry["new"]
        assert final.get("status") == status, "the final status is reached by the allowed transitions recorded"

    await hub.referee.conflicts.flush()
    rows = await hub.store.list_conflicts("acme", name=name)
    recorded = Counter((r.values[0]["device"], r.code, r.field) for r in rows if r.kind == "violation")
    told = Counter((r.device, n.code, n.field) for r in replicas for n in r.notices())
    assert recorded == told, (
        "every violation is recorded and told to its device, once",
        [(r.key, r.values) for r in rows], [(r.device, n) for r in replicas for n in r.notices()])
    for row in rows:
        event(f"{row.kind}: {row.code or row.field}")
        if row.kind == "conflict":
            assert len({repr(v["value"]) for v in row.values}) == 2, "a conflict holds both values"
