"""The reports' two paths agree: the store's ``GROUP BY`` and the same figures computed from rows."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from server.api import figures
from sync.store import Projection, SqlStore

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SLA = {("work_order", "OPEN"): timedelta(hours=24), ("warranty_claim", "IN_REVIEW"): timedelta(hours=48)}


def rows(count: int) -> list[Projection]:
    rng = random.Random(5)
    made = []
    for i in range(count):
        kind = rng.choice(["work_order", "warranty_claim"])
        status = rng.choice(["OPEN", "SCHEDULED", "COMPLETED"] if kind == "work_order" else ["SUBMITTED", "IN_REVIEW"])
        record: dict[str, object] = {"status": status}
        if rng.random() < 0.8:
            record["status_updated_at"] = (NOW - timedelta(hours=rng.randint(0, 100))).isoformat()
        if kind == "work_order" and rng.random() < 0.8:
            record["due_at"] = (NOW + timedelta(minutes=rng.randint(-3000, 3000))).isoformat()
        if kind == "warranty_claim" and rng.random() < 0.7:
            record["claim_amount"] = f"{rng.randint(0, 5000)}.{rng.randint(0, 99):02d}"
        assignee = rng.choice(["ana", "ben", None])
        made.append(Projection(tenant="acme", name=f"{kind}:R-{i}", type=kind, status=status, assignee=assignee,
                               updated_at=NOW, body={"record": record}))
    return made


async def test_the_store_groups_and_the_row_path_give_the_same_basis(store: SqlStore) -> None:
    await store.save_projections(rows(400))
    types = ["work_order", "warranty_claim"]
    limits = figures.cutoffs(NOW, SLA)

    grouped = await store.report_groups("acme", types=types, now=NOW, cutoffs=limits)
    report_rows = await store.report_rows("acme", types=types)
    computed = figures.groups_of(report_rows, NOW, limits)

    def key(group: object) -> tuple[str, str, str]:
        return (group.type, group.status or "", group.assignee or "")  # type: ignore[attr-defined]

    assert sorted(grouped, key=key) == sorted(computed, key=key)
    late = figures.late_items(report_rows, NOW)
    assert figures.basis_of(grouped, late, NOW, SLA) == figures.basis_of(computed, late, NOW, SLA)
    basis, valid_until = figures.basis_of(grouped, late, NOW, SLA)
    assert valid_until is not None and valid_until > NOW, "the next instant the clock changes a figure"
