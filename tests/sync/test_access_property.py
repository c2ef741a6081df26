"""Property: random principals × random records × random operations, over the wire, against the access table.

The oracle below is the README's access table written out by hand, independent of the rules file and of its
evaluator: an operation it forbids never succeeds and never shows the record's content; every operation it
allows succeeds. Each test item runs one hub (in-process sockets, real store, both engines) under the hub's
default rules; each example works on a new record.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Array

from sync.access import load_rules
from sync.hub import Hub
from sync.protocol import Sync, SyncStep
from tests.sync.replicas import Replica, create, record
from tests.support.inproc import running_hub

USERS = ("u1", "u2")
TEAMS = ("t1", "t2")
ROLES = ("technician", "adjuster", "claims_agent", "claims_manager", "supervisor", "agent", "customer", "viewer",
         "admin")
#: Status each record type is created in, by an admin.
CREATED = {"work_order": "OPEN", "warranty_claim": "SUBMITTED", "policy": "DRAFT", "insurance_claim": "REPORTED"}
#: A field each kind of grant may change, and one a narrower grant may not (None: every field is open to it).
MANAGERS = {"work_order": {"supervisor", "admin"},
            "warranty_claim": {"claims_manager", "supervisor", "admin"},
            "policy": {"claims_manager", "supervisor", "admin"},
            "insurance_claim": {"claims_manager", "supervisor", "admin"}}
_counter = itertools.count()


def expected(kind: str, user: str, roles: set[str], teams: set[str], rec: dict[str, Any]) -> str | None:
    """The README's access table: "read-write", "readonly" or None."""
    customer = (rec.get("customer") or {}).get("customer_id")
    rw = bool(roles & MANAGERS[kind])
    ro = "viewer" in roles
    if kind == "work_order":
        rw |= "technician" in roles and rec.get("technician") == user
        ro |= "technician" in roles and rec.get("team") in teams
    elif kind == "warranty_claim":
        rw |= "claims_agent" in roles and rec.get("team") in teams
        rw |= "technician" in roles and rec.get("assignee") == user
        rw |= "customer" in roles and customer == user
    elif kind == "policy":
        rw |= "agent" in roles and rec.get("agent") == user
        ro |= "customer" in roles and customer == user
    else:
        rw |= "adjuster" in roles and rec.get("adjuster") == user
        rw |= "agent" in roles and rec.get("agent") == user
        ro |= "customer" in roles and customer == user
    return "read-write" if rw else "readonly" if ro else None


def records(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    person = st.sampled_from(USERS)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    if kind == "work_order":
        fields |= {"technician": person, "team": st.sampled_from(TEAMS)}
    elif kind == "warranty_claim":
        fields |= {"assignee": person, "team": st.sampled_from(TEAMS),
                   "customer": st.builds(lambda u: {"customer_id": u, "email": "secret@x.test"}, person)}
    elif kind == "policy":
        fields |= {"agent": person, "customer": st.builds(lambda u: {"customer_id": u}, person)}
    else:
        fields |= {"adjuster": person, "agent": person, "customer": st.builds(lambda u: {"customer_id": u}, person)}
    return st.fixed_dictionaries({"title": st.just("secret-title")}, optional=fields)


@pytest.fixture
async def strict_hub(tmp_path: Path, store_url: str) -> AsyncIterator[Hub]:
    async with running_hub(tmp_path, url=store_url, access=load_rules()) as hub:
        yield hub


@pytest.mark.parametrize("kind", sorted(CREATED))
@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
async def test_no_operation_outside_the_access_table_succeeds_and_every_allowed_one_does(
    strict_hub: Hub, kind: str, data: st.DataObject
) -> None:
    hub = strict_hub
    name = f"{kind}:P-{next(_counter)}"
    fields = {"status": CREATED[kind], **data.draw(records(kind))}
    await create(hub, name, fields, roles=("admin",))
    user = data.draw(st.sampled_from(USERS))
    roles = set(data.draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=2, unique=True)))
    teams = set(data.draw(st.lists(st.sampled_from(TEAMS), max_size=2, unique=True)))
    want = expected(kind, user, roles, teams, fields)

    device = Replica(name, user=user, device="dev", roles=tuple(sorted(roles)))
    scope = await device.connect(hub, auth=device.token(teams=tuple(sorted(teams))))
    assert scope == want, (roles, teams, fields)
    if want is None:  # nothing of the record reached the device, and its writes change nothing
        assert not [f for f in device.frames if isinstance(f, Sync) and f.data not in (b"\x00", b"\x00\x00")]
        device.send(device.write("title", "overwritten"))
        assert await device.settled() == [False]
        assert record(hub.rooms[("acme", name)].doc)["title"] == "secret-title"
        await device.close()
        return
    await device.pull()
    assert record(device.doc) == record(hub.rooms[("acme", name)].doc), "a reader gets the whole record"
    device.send(device.append("notes", {"text": f"by {user}"}))
    statuses = await device.settled()
    notes = hub.rooms[("acme", name)].doc.get("notes", type=Array).to_py() or []
    if want == "readonly":
        assert statuses == [False] and notes == []
    else:
        assert statuses == [True] and [n["text"] for n in notes] == [f"by {user}"], "notes are open to every writer"
    await device.close()
