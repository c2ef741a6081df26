"""Property: random sequences of stamped, unstamped and forged writes from random principals, over the wire.

Forgeries: stamps dated in the year 2200 or at the largest encodable clock, stamps naming another device or
user or claiming roles the token lacks, list entries naming another author, entries appended to the hub's own
history. After every merge the rules hold, every replica converges with the hub, honest writers keep writing,
and another tenant's enforcement is untouched. A real hub (in-process sockets, real store, both engines).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Array, Map

from conflict import LIFECYCLES, HlcTimestamp, parse_clocks, record_type_for, wall_clock_ms
from conflict.hlc import MAX_COUNTER, MAX_WALL_MS
from conflict.rules import MAX_AHEAD_MS
from sync.hub import Hub
from tests.sync.replicas import Replica, content, converged, create, record
from tests.support.inproc import running_hub

KIND = record_type_for("work_order:X")
LIFECYCLE = LIFECYCLES["work_order"]
_names = itertools.count()
STATUSES = ("OPEN", "SCHEDULED", "IN_PROGRESS", "PENDING_APPROVAL", "COMPLETED", "CLOSED", "CANCELLED")
WHO = {"tech": ("technician",), "sup": ("supervisor",), "viewer-ish": ("technician",)}
OPERATIONS = ("stamped", "unstamped", "future", "limit", "foreign_device", "foreign_user", "claimed_role",
              "forged_note", "forged_history")


@pytest.fixture
async def forgery_hub(tmp_path: Path, store_url: str) -> AsyncIterator[Hub]:
    async with running_hub(tmp_path, url=store_url) as hub:
        yield hub


def forge(replica: Replica, operation: str, status: str) -> bytes:
    """One update of ``operation`` kind from ``replica``, moving the status to ``status`` where it writes one."""
    if operation == "stamped":
        return replica.write("status", status)
    if operation == "unstamped":
        return replica.edit(lambda doc: doc.get("record", type=Map).__setitem__("status", status))
    if operation == "claimed_role":
        return replica.write("status", status, roles=("supervisor", "admin"))
    if operation == "foreign_user":
        return replica.write("status", status, user="sup")
    if operation in ("future", "limit", "foreign_device"):
        wall = {"future": 7_258_118_400_000, "limit": MAX_WALL_MS}.get(operation, wall_clock_ms())
        node = "someone-else" if operation == "foreign_device" else replica.device
        stamp = {"hlc": HlcTimestamp(wall_ms=wall, counter=MAX_COUNTER if operation == "limit" else 0, node=node).encode(),
                 "user": replica.user, "roles": list(replica.roles), "value": status, "prev": None}

        def change(doc: Any) -> None:
            doc.get("record", type=Map)["status"] = status
            doc.get("clocks", type=Map)[f"status@{node}"] = stamp
        return replica.edit(change)
    if operation == "forged_note":
        return replica.edit(lambda doc: doc.get("notes", type=Array).append(
            {"text": f"approved by the manager ({replica.device})", "user": "manager-1", "device": "manager-pc"}))
    return replica.edit(lambda doc: doc.get("history", type=Array).append(
        {"old": "OPEN", "new": "CLOSED", "by": "manager-1", "user": "hub"}))


def check_rules(doc: Any, senders: dict[str, str]) -> None:
    """What must hold of the hub's document after every merge."""
    history = doc.get("history", type=Array).to_py() or []
    for entry in history:
        assert entry.get("user") == "hub", f"a history entry not written by the hub: {entry}"
        if entry.get("old") is not None:
            assert entry["new"] in LIFECYCLE.statuses and (entry["old"], entry["new"]) in {
                (t.source, t.target) for t in LIFECYCLE.transitions}, f"an invalid transition stands: {entry}"
    ceiling = wall_clock_ms() + MAX_AHEAD_MS
    for key, stamp in (doc.get("clocks", type=Map).to_py() or {}).items():
        assert HlcTimestamp.decode(stamp["hlc"]).wall_ms <= ceiling, f"a stamp from the future stands: {key}"
    for note in doc.get("notes", type=Array).to_py() or []:
        device = note.get("device")
        assert device in senders and note.get("user") == senders[device], f"a forged author stands: {note}"


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
async def test_forged_writes_never_break_the_rules_and_honest_writers_keep_writing(
    forgery_hub: Hub, data: st.DataObject
) -> None:
    hub = forgery_hub
    name = f"work_order:F-{next(_names)}"
    base = await create(hub, name, {"status": "OPEN", "technician": "tech"}, roles=("admin",))
    devices = {who: Replica(name, user=who, device=f"dev-{who}", roles=roles, base=base) for who, roles in WHO.items()}
    senders = {replica.device: replica.user for replica in devices.values()}
    for replica in devices.values():
        assert await replica.connect(hub) == "read-write"
    for _ in range(data.draw(st.integers(1, 6))):
        replica = devices[data.draw(st.sampled_from(sorted(devices)))]
        replica.receive()
        update = forge(replica, data.draw(st.sampled_from(OPERATIONS)), data.draw(st.sampled_from(STATUSES)))
        replica.send(update)
        await replica.settled()
        check_rules(hub.rooms[("acme", name)].doc, senders)
    # honest writers keep writing, whatever came before
    honest = devices["sup"]
    await honest.pull()
    honest.send(honest.write("title", "still writable"))
    assert (await honest.settled())[-1] is True
    await honest.live(lambda doc: record(doc).get("title") == "still writable")
    await converged(hub, name, *devices.values())
    assert parse_clocks(content(hub.rooms[("acme", name)].doc, KIND)[1]).latest("title").user == "sup"
    # another tenant's enforcement is untouched: a technician's invalid jump there is still reverted
    other = f"work_order:G-{next(_names)}"
    clean = Replica(other, user="tech", device="dev-b", roles=("technician",))
    assert await clean.connect(hub, auth=clean.token(tenant="globex")) == "read-write"
    clean.send(clean.write("status", "OPEN"))
    clean.send(clean.write("status", "CLOSED"))
    assert await clean.settled() == [True, True]
    await clean.live(lambda doc: record(doc).get("status") == "OPEN")
    for replica in (*devices.values(), clean):
        await replica.close()
