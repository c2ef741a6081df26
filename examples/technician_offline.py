"""A technician's day with the device SDK, against a real hub.

    python examples/technician_offline.py

It starts a hub (``python -m server serve``) on a free port with a throw-away SQLite database, then plays:

1. the dispatcher's office assigns three work orders to technician tech-17;
2. the tablet syncs its assigned work orders and drives into a basement without signal;
3. offline, the technician starts a job, ticks off a task, logs parts, writes notes and queries the tablet;
4. meanwhile the office raises a job's priority and adds a note of its own;
5. back in signal, the tablet reconnects by itself: its edits go up, the office's come down;
6. both replicas, synced through the hub, hold the same records.

Every step is printed. The hub and the temporary files are removed at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from client_sdk import (
    Acknowledged, ChangeOrigin, ErrorReported, LocalReplica, RecordChange, Records, StateChanged, SyncClient,
    SyncConfig, SyncEvent,
)
from server.auth import mint_token

JOBS = {
    "WO-1042": ("Pump 3 leaking at the seal", "Replace the shaft seal of pump 3 and test at 6 bar."),
    "WO-1043": ("Annual boiler service", "Clean the burner, check flue gas, log readings."),
    "WO-1044": ("Replace air filter", "Filter of air handling unit 2 is due."),
}


def say(who: str, text: str) -> None:
    print(f"[{who:>7}] {text}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_hub(workdir: Path, secret: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("FIELDSYNC_")}
    env.update(FIELDSYNC_PORT=str(port), FIELDSYNC_DATABASE_URL=f"sqlite+aiosqlite:///{workdir}/hub.db",
               FIELDSYNC_JWT_SECRET=secret, FIELDSYNC_LOG_LEVEL="warning")
    with open(workdir / "hub.log", "wb") as log:
        hub = subprocess.Popen([sys.executable, "-m", "server", "serve"], cwd=workdir, env=env,
                               stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            raise SystemExit(f"the hub exited with {hub.returncode}; see {workdir / 'hub.log'}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                return hub, port
        except OSError:
            time.sleep(0.1)
    hub.kill()
    raise SystemExit("the hub did not become ready in 30 s")


def narrate(who: str, client: SyncClient, records: Records) -> None:
    """Print what the sync client and the records API report."""

    def on_event(event: SyncEvent) -> None:
        match event:
            case Acknowledged(document=name, entries=entries):
                say(who, f"hub stored {len(entries)} pending update(s) of {name}")
            case StateChanged(new=state):
                say(who, f"sync state: {state.value}")
            case ErrorReported(error=error):
                say(who, f"sync problem: {error.code}: {error.message}")

    def on_change(change: RecordChange) -> None:
        if change.origin is ChangeOrigin.REMOTE:
            say(who, f"received a change of {change.name} (status {change.record.status})")

    client.on_event(on_event)
    records.on_change(on_change)


async def day(workdir: Path, url: str, secret: str) -> bool:
    config = SyncConfig(backoff_base=0.2, backoff_cap=2.0)

    def token(user: str, device: str, role: str) -> str:
        return mint_token(secret, sub=user, tenant="acme", device=device, roles=[role])

    async with contextlib.AsyncExitStack() as stack:  # closes clients, then replicas, whatever happens
        office_replica = await stack.enter_async_context(await LocalReplica.open(workdir / "office.db",
                                                                                 device="office-pc"))
        tablet_replica = await stack.enter_async_context(await LocalReplica.open(workdir / "tablet.db",
                                                                                 device="tablet-3"))
        office_sync = SyncClient(office_replica, url, token("dispatch", "office-pc", "supervisor"), config=config)
        tablet_sync = SyncClient(tablet_replica, url, token("tech-17", "tablet-3", "technician"), config=config)
        stack.push_async_callback(office_sync.close)
        stack.push_async_callback(tablet_sync.close)
        return await play(office_replica, tablet_replica, office_sync, tablet_sync)


async def play(office_replica: LocalReplica, tablet_replica: LocalReplica, office_sync: SyncClient,
               tablet_sync: SyncClient) -> bool:
    office = Records(office_replica, user="dispatch", roles=["supervisor"])
    tablet = Records(tablet_replica, user="tech-17", roles=["technician"])
    narrate("office", office_sync, office)
    narrate("tablet", tablet_sync, tablet)

    print("\n== 1. The office assigns three work orders to tech-17")
    for number, (title, description) in JOBS.items():
        await office.create("work_order", number, {"title": title, "status": "OPEN", "technician": "tech-17",
                                                   "priority": "MEDIUM"}, texts={"description": description})
        say("office", f"created work_order:{number} '{title}'")
    office_sync.start()
    await office_sync.wait_synced(20)

    print("\n== 2. The tablet syncs its assigned work orders, then loses the network")
    await tablet_replica.follow(*(f"work_order:{number}" for number in JOBS))
    tablet_sync.start()
    await tablet_sync.wait_synced(20)
    for view in await tablet.query(assignee="tech-17"):
        say("tablet", f"{view.name}: {view.body['title']} [{view.status}]")
    await tablet_sync.stop()
    say("tablet", f"offline (sync state: {tablet_sync.state.value})")

    print("\n== 3. Offline work on the tablet")
    job = "work_order:WO-1042"
    await tablet.set(job, status="IN_PROGRESS", actual_start="2026-11-23T08:05:00Z")
    await tablet.append(job, "tasks", {"id": "t1", "title": "Replace shaft seal", "status": "DONE"})
    await tablet.append(job, "parts_used", {"part_number": "SEAL-35", "name": "Shaft seal 35 mm", "quantity": 1})
    await tablet.append(job, "notes", {"text": "Old seal cracked, bearing looks fine."})
    await tablet.edit_text(job, "description", insert=" Tested at 6 bar: no leak.")
    await tablet.append("work_order:WO-1043", "notes", {"text": "Boiler room locked, back after lunch."})
    await tablet.set("work_order:WO-1044", status="IN_PROGRESS", actual_minutes=20)
    say("tablet", f"{tablet_sync.pending} update(s) waiting in the outbox")
    not_started = [v.name for v in await tablet.query(assignee="tech-17", status="OPEN")]
    say("tablet", f"local query, jobs not started yet: {', '.join(not_started)}")

    print("\n== 4. Meanwhile the office changes a job the tablet also touched")
    await office.set(job, priority="HIGH")
    await office.append(job, "notes", {"text": "Customer called: production line waiting."})
    await office_sync.wait_synced(20)
    say("office", f"{job} priority HIGH, note added")

    print("\n== 5. The tablet is back in signal")
    tablet_sync.start()
    await tablet_sync.wait_synced(30)
    say("tablet", f"synced, {tablet_sync.pending} pending; "
                  f"{tablet_sync.traffic.bytes_sent} bytes sent, {tablet_sync.traffic.bytes_received} received")

    async def same_everywhere() -> bool:
        return all([await office.content(name) == await tablet.content(name) for name in tablet_replica.followed()])

    deadline = time.monotonic() + 10
    while not await same_everywhere() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)

    print("\n== 6. Both replicas hold the same records")
    converged = await same_everywhere()
    final = await tablet.open(job)
    say("tablet", f"{job}: status {final.status}, priority {final.body['priority']}, "
                  f"{len(final.body['notes'])} notes, parts {[p['part_number'] for p in final.body['parts_used']]}")
    say("tablet", f"description: {final.body['description']!r}")
    say("office", f"same records as the tablet: {converged}")
    return converged


def main() -> int:
    secret = secrets.token_hex(32)
    with tempfile.TemporaryDirectory(prefix="fieldsync-example-") as tmp:
        workdir = Path(tmp)
        hub, port = start_hub(workdir, secret)
        print(f"hub running on ws://127.0.0.1:{port}/sync (SQLite in {workdir})")
        try:
            converged = asyncio.run(day(workdir, f"ws://127.0.0.1:{port}/sync", secret))
        finally:
            hub.terminate()
            hub.wait(20)
    print("\nconverged" if converged else "\nNOT converged")
    return 0 if converged else 1


if __name__ == "__main__":
    sys.exit(main())
