"""A stock ``@hocuspocus/provider`` client forging stamps and list entries (real hub, both stores, open access).

The stock client knows nothing of stamps; here it writes forged ones as plain Yjs (``client.mjs edit``): a stamp
dated in the year 2200, another device's and user's stamp, an entry of the hub's own history, a note naming
another author. The hub puts each one right with its own update, which the forger's replica and every other
replica receive, tells the forger with the rule's code (``conflict.codes``), and stores the violation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from pycrdt import Array, Doc, Map

from conflict import Hlc, HlcTimestamp, ViolationCode, wall_clock_ms
from tests.e2e.test_interop import EXIT_OK, node_bin, run_node  # noqa: F401  (node_bin is a fixture)
from tests.support.client import HubClient
from tests.support.forgery import YEAR_2200_MS
from tests.support.hub import HubProcess
from tests.support.stamped import write
from tests.support.stored import state_vector, stored_conflicts

NAME = "work_order:WO-F1"
RECORD = {"status": "OPEN", "technician": "tech-9", "title": "Pump 3"}
TECH = {"sub": "tech-9", "device": "phone-9", "roles": ("technician",)}
SENDER = {"user": "tech-9", "device": "phone-9"}


@pytest.fixture
def hub(hub_on_store: HubProcess) -> HubProcess:
    return hub_on_store


@dataclass
class Forged:
    """What each side holds after the stock client's forgery."""

    before: dict[str, Any]
    """The record's roots before it (the office's replica)."""
    hub: dict[str, Any]
    """The hub's copy after it."""
    watcher: dict[str, Any]
    """What a replica that was connected all along holds, without asking for anything."""
    forger: dict[str, Any]
    """The stock client's own replica of the roots it edited, after its SyncStatus."""
    told: list[str]
    """The codes of the error notices the stock client received."""


def roots(doc: Doc) -> dict[str, Any]:
    return {"record": doc.get("record", type=Map).to_py() or {}, "clocks": doc.get("clocks", type=Map).to_py() or {},
            **{root: doc.get(root, type=Array).to_py() or [] for root in ("history", "notes")}}


def told(trace: str) -> list[str]:
    """The codes of the error notices in the stock client's ``--trace`` of incoming Stateless frames."""
    codes = []
    for line in trace.splitlines():
        if "<- " in line and '"type":"Stateless"' in line:
            notice = json.loads(json.loads(line.split("<- ", 1)[1])["detail"])
            codes.append(notice["code"])
    return codes


async def forge(node_bin: str, hub: HubProcess, edit: Callable[[dict[str, Any]], dict[str, Any]]) -> Forged:
    """A supervisor creates the record at the office; the stock client sends ``edit(the roots)`` while another
    replica watches."""
    async with HubClient.connect(hub.ws_url) as office, HubClient.connect(hub.ws_url) as watcher:
        await office.open(NAME, hub.token(sub="sup-1", device="office", roles=("supervisor",)))
        assert await write(office, NAME, RECORD, clock=Hlc("office"), user="sup-1", roles=("supervisor",))
        before = roots(office.docs[NAME])
        await watcher.open(NAME, hub.token(sub="sup-2", device="desk", roles=("supervisor",)))
        result = await run_node(node_bin, hub.ws_url, hub.token(**TECH), NAME, "edit", json.dumps(edit(before)))
        assert result.returncode == EXIT_OK, result.describe()  # stored as sent and acknowledged, then put right
        held = await office.pull(NAME)
        # the watcher received everything the hub holds: the forgery, and the hub's update putting it right
        await watcher.wait_for(NAME, lambda doc: state_vector(doc) == state_vector(held))
        return Forged(before, roots(held), roots(watcher.docs[NAME]), result.payload["roots"], told(result.stderr))


async def test_forged_stamps_from_a_stock_client_are_put_right_for_every_replica_and_recorded(
    node_bin: str, hub: HubProcess,  # noqa: F811
) -> None:
    def edit(before: dict[str, Any]) -> dict[str, Any]:
        return {"set": {
            "record": {"status": "IN_PROGRESS", "title": "signed off"},
            "clocks": {
                # a move it may make, but stamped in the year 2200: it would win over every write until then
                "status@phone-9": {"hlc": HlcTimestamp(YEAR_2200_MS, 0, "phone-9").encode(), "user": "tech-9",
                                   "roles": ["technician"], "value": "IN_PROGRESS", "prev": None},
                # the supervisor's stamp on the office's device, overwriting the office's own
                "title@office": {"hlc": HlcTimestamp(wall_clock_ms(), 0, "office").encode(), "user": "sup-1",
                                 "roles": ["supervisor"], "value": "signed off",
                                 "prev": before["clocks"]["title@office"]["hlc"]},
            },
        }}

    forged = await forge(node_bin, hub, edit)
    assert sorted(forged.told) == [ViolationCode.FUTURE_STAMP, ViolationCode.STAMP_MISMATCH]
    assert forged.hub == forged.watcher
    for replica in (forged.hub, forged.forger):
        assert {k: replica["record"][k] for k in RECORD} == RECORD
        assert "status@phone-9" not in replica["clocks"], "the stamp from the future is gone"
        assert replica["clocks"]["title@office"] == forged.before["clocks"]["title@office"], "the office's is back"
    rows = await stored_conflicts(hub.database_url, NAME, until=lambda rows: len(rows) >= 2)
    assert sorted((row.kind, row.code, row.field) for row in rows) == [
        ("violation", ViolationCode.FUTURE_STAMP, "status"), ("violation", ViolationCode.STAMP_MISMATCH, "title")]
    for row in rows:
        assert {k: row.values[0][k] for k in SENDER} == SENDER, "recorded as its sender's, whatever it claims"
        assert row.winner == {"value": RECORD[row.field], "user": "hub"}


async def test_forged_list_entries_from_a_stock_client_are_put_right_for_every_replica_and_recorded(
    node_bin: str, hub: HubProcess,  # noqa: F811
) -> None:
    def edit(before: dict[str, Any]) -> dict[str, Any]:
        return {"append": {
            "history": [{"old": "OPEN", "new": "CLOSED", "by": "sup-1", "user": "hub"}],  # the hub's own list
            "notes": [{"text": "approved", "user": "sup-1", "device": "office"}],  # in the supervisor's name
        }}

    forged = await forge(node_bin, hub, edit)
    assert forged.told == [ViolationCode.FORGED_ENTRY, ViolationCode.FORGED_ENTRY]
    assert forged.hub == forged.watcher
    for replica in (forged.hub, forged.forger):
        assert replica["history"] == forged.before["history"], "the forged history entry is gone"
        assert replica["notes"] == [{"text": "approved", **SENDER}], "the note stands, in its writer's name"
    rows = await stored_conflicts(hub.database_url, NAME, until=lambda rows: len(rows) >= 2)
    assert sorted((row.kind, row.code, row.field) for row in rows) == [
        ("violation", ViolationCode.FORGED_ENTRY, "history"), ("violation", ViolationCode.FORGED_ENTRY, "notes")]
    for row in rows:
        assert {k: row.values[0][k] for k in SENDER} == SENDER
