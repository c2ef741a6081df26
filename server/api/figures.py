"""The reports' figures, computed from report rows at one instant: pure functions, no I/O."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from conflict import LIFECYCLES
from sync import ReportRow

__all__ = ["claimed_amounts", "open_ages", "overdue_work_orders", "status_counts", "technician_load"]

_OVERDUE_SHOWN = 100


def _is_overdue(row: ReportRow, now: datetime) -> bool:
    lifecycle = LIFECYCLES.get(row.type)
    return (lifecycle is not None and row.status in lifecycle.open and row.due_at is not None and row.due_at < now)


def status_counts(rows: Iterable[ReportRow]) -> dict[str, dict[str, int]]:
    """type -> status -> how many records (``null`` status counted under ``"none"``)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        counts[row.type][row.status or "none"] += 1
    return {kind: dict(sorted(by_status.items())) for kind, by_status in sorted(counts.items())}


def overdue_work_orders(rows: Iterable[ReportRow], now: datetime) -> dict[str, Any]:
    """Work orders open and past due at ``now``: how many, and the longest overdue first (at most 100)."""
    late = sorted((r for r in rows if r.type == "work_order" and _is_overdue(r, now)),
                  key=lambda r: (r.due_at, r.name))
    return {
        "now": now.isoformat(),
        "count": len(late),
        "items": [
            {"name": r.name, "status": r.status, "technician": r.assignee, "due_at": r.due_at.isoformat(),
             "overdue_hours": round((now - r.due_at).total_seconds() / 3600, 2)}
            for r in late[:_OVERDUE_SHOWN] if r.due_at is not None
        ],
    }


def open_ages(
    rows: Iterable[ReportRow], now: datetime, sla: Mapping[tuple[str, str], timedelta]
) -> list[dict[str, Any]]:
    """Per (type, open status): how many, the oldest age in hours, the service level and how many exceed it.

    A record's age in a status runs from its ``status_updated_at``; records without one are counted but
    have no age.
    """
    groups: dict[tuple[str, str], list[ReportRow]] = defaultdict(list)
    for row in rows:
        lifecycle = LIFECYCLES.get(row.type)
        if lifecycle is not None and row.status in lifecycle.open:
            groups[(row.type, row.status)].append(row)
    report = []
    for (kind, status), members in sorted(groups.items()):
        ages = [now - r.status_since for r in members if r.status_since is not None]
        limit = sla.get((kind, status))
        report.append({
            "type": kind, "status": status, "count": len(members),
            "oldest_hours": round(max(ages).total_seconds() / 3600, 2) if ages else None,
            "sla_hours": None if limit is None else limit.total_seconds() / 3600,
            "over_sla": None if limit is None else sum(1 for age in ages if age > limit),
        })
    return report


def technician_load(rows: Iterable[ReportRow], now: datetime) -> list[dict[str, Any]]:
    """Open work orders per technician (``null``: unassigned), with how many are overdue; busiest first."""
    load: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    open_statuses = LIFECYCLES["work_order"].open
    for row in rows:
        if row.type == "work_order" and row.status in open_statuses:
            load[row.assignee][0] += 1
            load[row.assignee][1] += _is_overdue(row, now)
    ordered = sorted(load.items(), key=lambda item: (-item[1][0], item[0] or ""))
    return [{"technician": who, "open": counts[0], "overdue": counts[1]} for who, counts in ordered]


def claimed_amounts(rows: Iterable[ReportRow], types: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """type -> status -> records, records with an amount, and the amounts' total (a decimal string)."""
    totals: dict[str, dict[str, list[Any]]] = {kind: {} for kind in types}
    for row in rows:
        if row.type in totals:
            entry = totals[row.type].setdefault(row.status or "none", [0, 0, Decimal(0)])
            entry[0] += 1
            if row.amount is not None:
                entry[1] += 1
                entry[2] += row.amount
    return {
        kind: {status: {"count": c, "with_amount": n, "total": format(total.normalize(), "f") if n else "0"}
               for status, (c, n, total) in sorted(by_status.items())}
        for kind, by_status in totals.items()
    }
