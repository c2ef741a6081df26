"""Property: random sequences of stamped, unstamped and forged writes from random principals, over the wire.

The forgeries and the rules are in ``tests.support.forgery``. After every merge the rules hold and a forgery's
author is told, every replica converges with the hub, honest writers keep writing, and another tenant's
enforcement is untouched. A real hub (in-process sockets, real store, both engines); the same property on a hub
process is ``tests/e2e/test_forgery_property.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from conflict import parse_clocks
from sync.hub import Hub
from tests.sync.replicas import Replica, content, converged, create, record
from tests.support.forgery import KIND, WHO, check_rules, forge, reported, writes
from tests.support.inproc import running_hub

_names = itertools.count()


@pytest.fixture
async def forgery_hub(tmp_path: Path, store_url: str) -> AsyncIterator[Hub]:
    async with running_hub(tmp_path, url=store_url) as hub:
        yield hub


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=writes())
async def test_forged_writes_never_break_the_rules_and_honest_writers_keep_writing(
    forgery_hub: Hub, steps: list[tuple[str, str, str]]
) -> None:
    hub = forgery_hub
    name = f"work_order:F-{next(_names)}"
    base = await create(hub, name, {"status": "OPEN", "technician": "tech"}, roles=("admin",))
    devices = {who: Replica(name, user=who, device=f"dev-{who}", roles=roles, base=base) for who, roles in WHO.items()}
    senders = {replica.device: replica.user for replica in devices.values()}
    for replica in devices.values():
        assert await replica.connect(hub) == "read-write"
    for who, operation, status in steps:
        replica = devices[who]
        replica.receive()
        told = len(replica.notices())
        replica.send(forge(replica, operation, status))
        await replica.settled()
        check_rules(hub.rooms[("acme", name)].doc, senders)
        reported(operation, [notice.code for notice in replica.notices()[told:]])
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
