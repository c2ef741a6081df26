"""The domain rules through a real hub process: corrections reach other devices, violations are reported
and stored, role-restricted and unknown documents are refused."""

from __future__ import annotations

import pytest
from pycrdt import Doc, Map

from conflict import Hlc
from tests.support.stamped import write
from tests.support.client import Denied, HubClient
from tests.support.hub import HubProcess
from tests.support.stored import stored_conflicts

NAME = "work_order:WO-D1"


def status(doc: Doc) -> object:
    return doc.get("record", type=Map).get("status")


async def test_an_invalid_offline_transition_is_reverted_for_every_device_recorded_and_reported(
    hub_on_store: HubProcess,
) -> None:
    hub = hub_on_store
    async with HubClient.connect(hub.ws_url) as office, HubClient.connect(hub.ws_url) as tablet:
        await office.open(NAME, hub.token(sub="sup-1", device="office", roles=("supervisor",)))
        office_clock = Hlc("office")
        assert await write(office, NAME, {"status": "OPEN", "title": "Pump 3"}, clock=office_clock, user="sup-1",
                           roles=("supervisor",))
        await tablet.open(NAME, hub.token(sub="tech-1", device="tablet", roles=("technician",)))
        await tablet.wait_for(NAME, lambda doc: status(doc) == "OPEN")

        # offline, the technician closes the job (only supervisors close, and only completed jobs) and retitles it
        assert await write(tablet, NAME, {"status": "CLOSED", "title": "Pump 3, seal replaced"}, clock=Hlc("tablet"),
                           user="tech-1", roles=("technician",)), "stored as sent and acknowledged"

        notice = await tablet.wait_notice(NAME, "invalid_transition")
        assert notice.field == "status"
        for client in (tablet, office):  # the hub's correction reaches the author and everyone else
            doc = await client.wait_for(NAME, lambda doc: status(doc) == "OPEN"
                                        and doc.get("record", type=Map).get("title") == "Pump 3, seal replaced")
            assert "status_updated_at" in doc.get("record", type=Map).to_py()

    (row,) = await stored_conflicts(hub.database_url, NAME)
    assert (row.kind, row.code, row.field, row.status) == ("violation", "invalid_transition", "status", "open")
    assert row.values[0]["value"] == "CLOSED" and row.values[0]["device"] == "tablet"
    assert row.winner == {"value": "OPEN", "user": "hub"}


@pytest.mark.parametrize(
    ("name", "roles", "code"),
    [
        ("warranty_claim:WC-D1/internal", ("customer",), "forbidden"),
        ("warranty_claim:WC-D1/internal", ("viewer",), "forbidden"),
        ("invoice:INV-1", ("admin",), "unknown_record_type"),
    ],
)
async def test_role_restricted_and_unknown_documents_are_refused(
    hub: HubProcess, name: str, roles: tuple[str, ...], code: str
) -> None:
    async with HubClient.connect(hub.ws_url) as client:
        with pytest.raises(Denied) as denied:
            await client.authenticate(name, hub.token(sub="c-1", device="phone", roles=roles))
        assert str(denied.value).startswith(f"{code}: ")
        assert await client.authenticate("warranty_claim:WC-D1", hub.token(sub="c-1", device="phone",
                                                                           roles=roles)) in ("read-write", "readonly")
