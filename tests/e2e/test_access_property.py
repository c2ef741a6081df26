"""Property, on a real hub process (SQLite and Postgres): random principals × random records × random operations.

The oracle is the README's access table, written out by hand in ``tests/sync/test_access_property.py`` and
independent of the rules file: no operation outside it succeeds or shows the record's content, and every
operation it allows succeeds. Operations: open (read the whole record), append a note, write a field the
grant may not change, create a record in a shape the token does not reach.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map

from sync.access import DEFAULT_ACCESS_FILE
from sync.protocol import Sync, SyncStep
from tests.support.client import Denied, HubClient
from tests.support.hub import HubProcess
from tests.sync.test_access_property import CREATED, ROLES, TEAMS, USERS, expected, records

pytestmark = pytest.mark.hub_env(FIELDSYNC_ACCESS_FILE=str(DEFAULT_ACCESS_FILE))
_names = itertools.count()


def note(doc: Doc, text: str) -> bytes:
    updates: list[bytes] = []
    subscription = doc.observe(lambda event: updates.append(event.update))
    doc.get("notes", type=Array).append({"text": text})
    doc.unobserve(subscription)
    return updates[0]


async def hub_copy(hub: HubProcess, name: str) -> dict[str, Any]:
    async with HubClient.connect(hub.ws_url) as admin:
        doc = await admin.open(name, hub.token(sub="admin-1", roles=("admin",), device="audit"))
        return {"record": doc.get("record", type=Map).to_py() or {},
                "notes": [n.get("text") for n in doc.get("notes", type=Array).to_py() or []]}


@pytest.mark.parametrize("kind", sorted(CREATED))
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
async def test_over_the_wire_no_operation_outside_the_access_table_succeeds(
    hub_on_store: HubProcess, kind: str, data: st.DataObject
) -> None:
    hub = hub_on_store
    name = f"{kind}:W-{next(_names)}"
    fields = {"status": CREATED[kind], **data.draw(records(kind))}
    async with HubClient.connect(hub.ws_url) as admin:
        await admin.open(name, hub.token(sub="admin-1", roles=("admin",), device="office"))
        assert await admin.set_fields(name, fields)
    user = data.draw(st.sampled_from(USERS))
    roles = tuple(sorted(data.draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=2, unique=True))))
    teams = tuple(sorted(data.draw(st.lists(st.sampled_from(TEAMS), max_size=2, unique=True))))
    want = expected(kind, user, set(roles), set(teams), fields)
    token = hub.token(sub=user, roles=roles, teams=teams, device="dev")

    async with HubClient.connect(hub.ws_url) as device:
        if want is None:
            with pytest.raises(Denied, match="^forbidden: "):
                await device.open(name, token)
            assert "secret" not in repr(device.frames), "nothing of the record reached the device"
            stray = Doc()
            await device.send_frame(Sync(name, SyncStep.UPDATE, note(stray, "by an outsider")))
            await device.wait_acks(name, 1)
            assert device.statuses[name][-1] is False
        else:
            doc = await device.open(name, token)
            assert doc.get("record", type=Map).to_py() == (await hub_copy(hub, name))["record"], "a reader reads it all"
            applied = await device.send_update(name, note(doc, f"by {user}"))
            assert applied is (want == "read-write")
    held = await hub_copy(hub, name)
    assert held["record"]["title"] == "secret-title"
    assert held["notes"] == ([f"by {user}"] if want == "read-write" else [])
