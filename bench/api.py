"""REST API latency over 100,000 projections: list pages (keyset, with filters) and the reports, each with the
cache cold (the tenant invalidated before every request, as after any merge) and warm.

    .venv/bin/python -m bench.api --store sqlite|postgres [--records 100000]

The hub runs in this process (store, hub, in-process cache) and the app is called through httpx's ASGI
transport, so the figures are the API's own time without network or a server process around it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from server.app import create_app
from server.auth import JwtVerifier, mint_token
from server.config import Settings
from sync import Hub, InProcessCache
from sync.store import Projection, SqlStore, upgrade

SECRET = "bench-api-secret-0123456789abcdef-0123456789"
TENANT = "acme"
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432"


def projections(count: int, now: datetime) -> list[Projection]:
    rng = random.Random(42)
    rows = []
    for i in range(count):
        if i % 4 == 3:
            status = rng.choice(["SUBMITTED", "IN_REVIEW", "APPROVED", "REJECTED"])
            record = {"claim_number": f"WC-{i}", "status": status, "assignee": f"adj-{i % 40}",
                      "team": f"team-{i % 8}", "claim_amount": f"{rng.randint(10, 99999)}.50",
                      "customer": {"customer_id": f"C-{i % 5000}", "name": f"Customer {i % 5000}"},
                      "status_updated_at": (now - timedelta(hours=rng.randint(1, 200))).isoformat()}
            rows.append(Projection(tenant=TENANT, name=f"warranty_claim:WC-{i:06d}", type="warranty_claim",
                                   status=status, assignee=record["assignee"],
                                   updated_at=now - timedelta(seconds=i), body={"record": record}))
        else:
            status = rng.choice(["OPEN", "SCHEDULED", "IN_PROGRESS", "COMPLETED", "CLOSED"])
            record = {"number": f"WO-{i}", "title": rng.choice(["Pump service", "Boiler check", "Valve swap"]),
                      "status": status, "technician": f"tech-{i % 200}",
                      "due_at": (now + timedelta(hours=rng.randint(-100, 100))).isoformat(),
                      "status_updated_at": (now - timedelta(hours=rng.randint(1, 100))).isoformat()}
            rows.append(Projection(tenant=TENANT, name=f"work_order:WO-{i:06d}", type="work_order", status=status,
                                   assignee=record["technician"], updated_at=now - timedelta(seconds=i),
                                   body={"record": record}))
    return rows


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def measure(label: str, runs: int, call: Callable[[], Awaitable[None]],
                  before: Callable[[], Awaitable[None]] | None = None) -> str:
    samples = []
    for _ in range(runs):
        if before is not None:
            await before()
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return (f"| {label} | {runs} | {statistics.median(samples):.2f} | {pct(samples, 0.99):.2f} |")


async def run(url: str, count: int) -> list[str]:
    await upgrade(url)
    seeding = SqlStore(url)
    await seeding.start()
    rows = projections(count, datetime.now(UTC))
    for start in range(0, len(rows), 5000):
        await seeding.save_projections(rows[start:start + 5000])
    await seeding.close()
    if url.startswith("postgresql"):
        # what autovacuum does after a bulk load, before the planner has statistics
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        await conn.execute("ANALYZE projections")
        await conn.close()

    cache = InProcessCache()
    app = create_app(Settings(database_url=url), verifier=JwtVerifier(secret=SECRET), cache=cache)
    hub: Hub = app.state.hub
    token = mint_token(SECRET, sub="sup", tenant=TENANT, device="bench", roles=["supervisor"])
    headers = {"Authorization": f"Bearer {token}"}
    await hub.store.start()
    await app.state.admin.start()  # as the app's lifespan does: tokens are refused until revocations are read
    lines = ["| request | runs | p50 ms | p99 ms |", "|---|---:|---:|---:|"]
    try:
        async with hub.running():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as http:
                async def get(path: str) -> dict:
                    response = await http.get(path, headers=headers)
                    assert response.status_code == 200, response.text
                    return response.json()

                async def cold() -> None:
                    await cache.invalidate(TENANT)

                first = "/api/records?type=work_order&status=OPEN&sort=-updated_at&limit=50"
                cursors: list[str] = []
                walk = "/api/records?type=work_order&status=OPEN&sort=name&limit=100"
                page = await get(walk)
                while page["next_cursor"] and len(cursors) < 50:
                    cursors.append(page["next_cursor"])
                    page = await get(f"{walk}&cursor={cursors[-1]}")
                pages = itertools.cycle(cursors)
                search = "/api/records?q=customer%2012&type=warranty_claim&limit=20"
                now = datetime.now(UTC).isoformat().replace("+", "%2B")
                due = f"/api/records?type=work_order&due_before={now}&sort=due_at&limit=50"
                every_due = "/api/records?sort=due_at&limit=50"
                for label, path in (("list: type+status, first page of 50", first),
                                    ("list: due_before, sort due_at, 50", due),
                                    ("list: every type, sort due_at, 50", every_due),
                                    ("list: text search q, 20", search)):
                    lines.append(await measure(f"{label}, cold", 100, lambda p=path: get(p), cold))
                    lines.append(await measure(f"{label}, warm", 100, lambda p=path: get(p)))
                if cursors:
                    label = f"list: type+status, sort name, keyset pages 2-{len(cursors) + 1} of 100, cold"
                    lines.append(await measure(label, 100, lambda: get(f"{walk}&cursor={next(pages)}"), cold))
                lines.append(await measure("list: overdue=true, 50 (never cached)", 50,
                                           lambda: get("/api/records?overdue=true&limit=50")))
                lines.append(await measure("reports: all five, cold", 10, lambda: get("/api/reports"), cold))
                lines.append(await measure("reports: all five, warm", 100, lambda: get("/api/reports")))
                answers = app.state.answers
                lines.append(f"\ncache: {answers.hits} hits, {answers.misses} misses, {answers.bypassed} bypassed")
    finally:
        await hub.store.close()
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    if args.store == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            lines = await run(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", args.records)
    else:
        name = f"fieldsync_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            lines = await run(f"{POSTGRES}/{name}", args.records)
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            await admin.close()
    print(f"### {args.store}, {args.records:,} projections\n")
    print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main())
