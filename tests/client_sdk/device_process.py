"""A device app in its own process, so tests can SIGKILL it and start it again from its SQLite file.

    python -m tests.client_sdk.device_process offline-edit --db F --device D --user U --url URL --token T \
        --dead-url URL NAME...
        sync NAMEs from the hub, go offline, edit each, then keep trying an unreachable hub (killed there)
    python -m tests.client_sdk.device_process sync --db F --device D --url URL --token T
        come online, wait until synced, print the pending count as JSON
    python -m tests.client_sdk.device_process edit-loop --db F --device D
        edit one record for ever, printing each committed edit (killed at a random instant)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from pycrdt import Doc

from client_sdk import LocalReplica, Records, SyncClient, SyncConfig
from conflict import append_entry, write_field

FAST = SyncConfig(backoff_base=0.05, backoff_cap=0.2, connect_timeout=2.0)


def say(*parts: object) -> None:
    print(*parts, flush=True)


async def offline_edit(args: argparse.Namespace) -> None:
    replica = await LocalReplica.open(args.db, device=args.device)
    records = Records(replica, user=args.user, roles=["technician"])
    online = SyncClient(replica, args.url, args.token, config=FAST)
    await replica.follow(*args.names)
    online.start()
    await online.wait_synced(20)
    await online.close()
    for name in args.names:  # offline from here on
        await records.set(name, status="IN_PROGRESS", actual_minutes=45)
        await records.append(name, "notes", {"text": f"replaced the seal on {name}"})
        await records.edit_text(name, "description", insert=" (checked on site)")
    unreachable = SyncClient(replica, args.dead_url, args.token, config=FAST)
    unreachable.start()
    await unreachable.wait_for(lambda client: client.last_error is not None, 10)
    say("OFFLINE", json.dumps({name: replica.pending_count(name) for name in args.names}))
    await asyncio.Event().wait()  # trying to reconnect until SIGKILL


async def sync(args: argparse.Namespace) -> None:
    replica = await LocalReplica.open(args.db, device=args.device)
    async with SyncClient(replica, args.url, args.token, config=FAST) as client:
        await client.wait_synced(30)
        say(json.dumps({"pending": client.pending, "state": client.state.value}))
    await replica.close()


async def edit_loop(args: argparse.Namespace) -> None:
    replica = await LocalReplica.open(args.db, device=args.device, coalesce_ms=0)
    records = Records(replica, user="loop", roles=["technician"])
    name = "work_order:WO-LOOP"
    await records.create("work_order", "WO-LOOP", {"title": "loop"})
    i = 0
    while True:
        # one edit writes two fields and a note: after a kill, all three or none must be there
        await replica.edit(name, lambda doc, i=i: _pair(records, doc, i))
        say("committed", i)
        i += 1


def _pair(records: Records, doc: Doc, i: int) -> None:
    clock = records.replica.hlc
    write_field(doc, f"a{i}", i, clock=clock, user="loop", roles=["technician"])
    write_field(doc, f"b{i}", i, clock=clock, user="loop", roles=["technician"])
    append_entry(doc, "notes", {"text": f"n{i}"}, clock=clock, user="loop")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["offline-edit", "sync", "edit-loop"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--device", required=True)
    parser.add_argument("--user", default="tech")
    parser.add_argument("--url")
    parser.add_argument("--dead-url")
    parser.add_argument("--token")
    parser.add_argument("names", nargs="*")
    args = parser.parse_intermixed_args()
    run = {"offline-edit": offline_edit, "sync": sync, "edit-loop": edit_loop}[args.mode]
    asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
