"""Property, on a real hub process (SQLite and Postgres): random sequences of stamped, unstamped and forged writes
from random principals, over WebSockets.

The property of ``tests/sync/test_forgery_property.py`` (the writes and the rules are ``tests.support.forgery``),
held by ``python -m server serve`` under the open access rules, as the in-process test's hub: after every merge
the hub's copy, read back over the wire, keeps the rules and the forgery's author is told; every replica converges
with the hub; honest writers keep writing; another tenant's enforcement is untouched. One hub process per store
serves every example; each example writes records of its own.
"""

from __future__ import annotations

import itertools
from contextlib import AsyncExitStack

from hypothesis import HealthCheck, given, settings

from conflict import Hlc, parse_clocks
from sync.protocol import Authenticated
from tests.support.client import HubClient
from tests.support.device_doc import DeviceDoc, content, record
from tests.support.forgery import KIND, WHO, check_rules, forge, reported, writes
from tests.support.hub import HubProcess
from tests.support.stamped import write

_names = itertools.count()


def scope(client: HubClient, name: str) -> str:
    return next(f.scope for f in client.frames if isinstance(f, Authenticated) and f.document == name)


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=writes())
async def test_over_the_wire_forged_writes_never_break_the_rules_and_honest_writers_keep_writing(
    hub_on_store: HubProcess, steps: list[tuple[str, str, str]]
) -> None:
    hub = hub_on_store
    name = f"work_order:FW-{next(_names)}"
    async with AsyncExitStack() as stack:
        async def connect() -> HubClient:
            return await stack.enter_async_context(HubClient.connect(hub.ws_url))

        # the office creates the record and stays connected: its replica, pulled, is the hub's copy
        office = await connect()
        await office.open(name, hub.token(sub="office", device="office-pc", roles=("admin",)))
        assert await write(office, name, {"status": "OPEN", "technician": "tech"}, clock=Hlc("office-pc"),
                           user="office", roles=("admin",))
        assert office.notices[name] == [], "the setup itself broke no rule"
        devices = {who: DeviceDoc(name, user=who, device=f"dev-{who}", roles=roles) for who, roles in WHO.items()}
        senders = {device.device: device.user for device in devices.values()}
        clients: dict[str, HubClient] = {}
        for who, device in devices.items():
            clients[who] = await connect()
            await clients[who].open(name, hub.token(sub=who, device=device.device, roles=device.roles), doc=device.doc)
            assert scope(clients[who], name) == "read-write"

        for who, operation, status in steps:
            client = clients[who]
            told = len(client.notices[name])
            await client.send_update(name, forge(devices[who], operation, status))
            check_rules(await office.pull(name), senders)
            reported(operation, [notice.code for notice in client.notices[name][told:]])

        # honest writers keep writing, whatever came before
        honest, sup = clients["sup"], devices["sup"]
        await honest.pull(name)
        assert await honest.send_update(name, sup.write("title", "still writable"))
        assert record(sup.doc).get("title") == "still writable", "not corrected (a correction arrives before the ack)"
        held = await office.pull(name)
        for who, client in clients.items():
            assert content(await client.pull(name), KIND) == content(held, KIND), f"dev-{who} holds the hub's copy"
        assert parse_clocks(content(held, KIND)[1]).latest("title").user == "sup"

        # another tenant's enforcement is untouched: a technician's invalid jump there is still reverted
        other = f"work_order:GW-{next(_names)}"
        clean = DeviceDoc(other, user="tech", device="dev-b", roles=("technician",))
        globex = await connect()
        await globex.open(other, hub.token(sub="tech", tenant="globex", device="dev-b", roles=("technician",)),
                          doc=clean.doc)
        assert scope(globex, other) == "read-write"
        assert await globex.send_update(other, clean.write("status", "OPEN"))
        assert await globex.send_update(other, clean.write("status", "CLOSED"))
        await globex.wait_for(other, lambda doc: record(doc).get("status") == "OPEN")
        assert record(await globex.pull(other))["status"] == "OPEN"
