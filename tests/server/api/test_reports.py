"""``/api/reports`` on both stores: figures checked against direct SQL counts, overdue by the clock, SLAs."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from server.config import Settings, load_settings
from sync import ConfigError
from sync.store.tables import projections
from tests.server.api.conftest import TENANT, Api, bearer
from tests.support.seed import seed_records

SUP = bearer()
WO_STATUSES = ["OPEN", "SCHEDULED", "IN_PROGRESS", "COMPLETED", "CLOSED"]
WC_STATUSES = ["SUBMITTED", "IN_REVIEW", "APPROVED", "REJECTED"]


def iso(at: datetime) -> str:
    return at.isoformat()


def seed_data(now: datetime) -> dict[str, dict[str, Any]]:
    rng = random.Random(13)
    records: dict[str, dict[str, Any]] = {}
    for i in range(120):
        records[f"work_order:WO-{i}"] = {
            "number": f"WO-{i}", "status": rng.choice(WO_STATUSES),
            "technician": rng.choice(["ana", "ben", "cy", None]),
            "due_at": iso(now + timedelta(hours=rng.randint(-72, 72))),
        }
    for i in range(60):
        records[f"warranty_claim:WC-{i}"] = {
            "claim_number": f"WC-{i}", "status": rng.choice(WC_STATUSES), "assignee": "ina",
            "claim_amount": f"{rng.randint(1, 99999)}.{rng.randint(0, 99):02d}" if i % 5 else None,
            "status_updated_at": iso(now - timedelta(hours=rng.randint(1, 100))),
        }
    return {name: {k: v for k, v in fields.items() if v is not None} for name, fields in records.items()}


async def sql_counts(url: str, *group: str) -> dict[tuple[Any, ...], int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            columns = [projections.c[name] for name in group]
            rows = await conn.execute(
                select(*columns, func.count()).where(projections.c.tenant == TENANT).group_by(*columns)
            )
            return {tuple(row[:-1]): row[-1] for row in rows}
    finally:
        await engine.dispose()


async def test_figures_match_direct_counts_of_the_seeded_records(api: Api) -> None:
    now = datetime.now(UTC)
    data = seed_data(now)
    await seed_records(api.store, TENANT, data)
    await seed_records(api.store, "globex", {"work_order:WO-1": {"status": "OPEN", "technician": "ana"}})

    response = await api.client.get("/api/reports", headers=SUP)
    assert response.status_code == 200
    report = response.json()

    by_status = await sql_counts(api.url, "type", "status")
    assert {(kind, status): n for kind, counts in report["status_counts"].items() for status, n in counts.items()} == {
        key: n for key, n in by_status.items()
    }

    open_wo = {"OPEN", "SCHEDULED", "IN_PROGRESS"}
    per_tech = await sql_counts(api.url, "type", "status", "assignee")
    expected_load = Counter()
    for (kind, status, who), n in per_tech.items():
        if kind == "work_order" and status in open_wo:
            expected_load[who] += n
    assert {row["technician"]: row["open"] for row in report["technicians"]} == dict(expected_load)
    opens = [row["open"] for row in report["technicians"]]
    assert opens == sorted(opens, reverse=True), "busiest first"

    overdue = sorted(name for name, f in data.items() if name.startswith("work_order")
                     and f["status"] in open_wo and datetime.fromisoformat(f["due_at"]) < now)
    assert report["overdue"]["count"] == len(overdue) > 0
    assert sorted(item["name"] for item in report["overdue"]["items"]) == overdue
    assert sum(row["overdue"] for row in report["technicians"]) == len(overdue)

    claims = [f for name, f in data.items() if name.startswith("warranty_claim")]
    amounts = report["claimed_amounts"]["warranty_claim"]
    for status in {f["status"] for f in claims}:
        mine = [f for f in claims if f["status"] == status]
        total = sum((Decimal(f["claim_amount"]) for f in mine if "claim_amount" in f), Decimal(0))
        assert amounts[status]["count"] == len(mine)
        assert amounts[status]["with_amount"] == sum("claim_amount" in f for f in mine)
        assert Decimal(amounts[status]["total"]) == total
    assert report["claimed_amounts"]["insurance_claim"] == {}

    in_review = [f for f in claims if f["status"] == "IN_REVIEW"]
    [ages] = [row for row in report["open_ages"] if (row["type"], row["status"]) == ("warranty_claim", "IN_REVIEW")]
    assert ages["count"] == len(in_review) and ages["sla_hours"] == 48
    assert ages["over_sla"] == sum(now - datetime.fromisoformat(f["status_updated_at"]) > timedelta(hours=48)
                                   for f in in_review)

    for path, key in (("status-counts", "status_counts"), ("overdue", "overdue"), ("technicians", "technicians"),
                      ("claimed-amounts", "claimed_amounts"), ("open-ages", "open_ages")):
        single = (await api.client.get(f"/api/reports/{path}", headers=SUP)).json()
        if key == "overdue":
            assert single["count"] == report["overdue"]["count"]
        else:
            assert single == report[key], path


async def test_a_work_order_becomes_overdue_by_the_clock_alone(api: Api) -> None:
    due = datetime.now(UTC) + timedelta(seconds=1.5)
    await seed_records(api.store, TENANT, {"work_order:WO-1": {"status": "OPEN", "technician": "ana",
                                                               "due_at": due.isoformat()}})
    assert (await api.client.get("/api/reports/overdue", headers=SUP)).json()["count"] == 0
    await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.2)
    late = (await api.client.get("/api/reports/overdue", headers=SUP)).json()
    assert late["count"] == 1 and late["items"][0]["name"] == "work_order:WO-1", "no write was needed"
    assert (await api.client.get("/api/records/work_order:WO-1", headers=SUP)).json()["overdue"] is True


async def test_reports_cover_only_the_tokens_tenant_and_readable_records(api: Api) -> None:
    await seed_records(api.store, "globex", {"work_order:WO-1": {"status": "OPEN", "technician": "ana"}})
    assert (await api.client.get("/api/reports/status-counts", headers=SUP)).json() == {}
    await seed_records(api.store, TENANT, {"work_order:WO-1": {"status": "OPEN"}})
    guest = await api.client.get("/api/reports/status-counts", headers=bearer("g", roles=["guest"]))
    assert guest.status_code == 200 and guest.json() == {}
    response = await api.client.get("/api/reports/overdue?at=2026-01-01", headers=SUP)
    assert response.status_code == 400 and response.json()["parameter"] == "at"


@pytest.mark.parametrize("text", ["warranty_claim.IN_REVIEW", "gadget.OPEN=4h", "work_order.CLOSED=4h",
                                  "work_order.OPEN=soon", "work_order.OPEN=0h"])
def test_a_bad_sla_stops_the_start_naming_the_variable(text: str) -> None:
    with pytest.raises(ConfigError, match="FIELDSYNC_REPORT_SLA"):
        load_settings({"FIELDSYNC_REPORT_SLA": text})


def test_the_sla_is_configurable() -> None:
    settings = load_settings({"FIELDSYNC_REPORT_SLA": "warranty_claim.IN_REVIEW=12h, work_order.OPEN=1.5h"})
    assert settings.report_sla.startswith("warranty_claim.IN_REVIEW=12h")
    assert Settings().report_sla, "a default applies"
