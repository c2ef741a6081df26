"""The reports' figures from report rows, in two steps: a *basis* that holds instants, and its rendering.

The basis is what the cache keeps: everything in it stays true until ``valid_until`` (the next instant at
which the clock alone moves a record into overdue or over its service level), and durations (hours overdue,
age of the oldest record) are rendered from its instants at each request, so no figure goes stale by time.
Pure functions, no I/O.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from conflict import LIFECYCLES
from sync import ReportRow

__all__ = ["CLAIM_TYPES", "report_basis", "render"]

CLAIM_TYPES = ("warranty_claim", "insurance_claim")
_OVERDUE_SHOWN = 100


def _open(row: ReportRow) -> bool:
    lifecycle = LIFECYCLES.get(row.type)
    return lifecycle is not None and row.status in lifecycle.open


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def report_basis(
    rows: Sequence[ReportRow], now: datetime, sla: Mapping[tuple[str, str], timedelta]
) -> tuple[dict[str, Any], datetime | None]:
    """The basis of every report at ``now`` and until when it holds (``None``: until the records change)."""
    turns: list[datetime] = []
    late = []
    for row in rows:
        if row.type == "work_order" and _open(row) and row.due_at is not None:
            if row.due_at < now:
                late.append(row)
            else:
                turns.append(row.due_at)
    late.sort(key=lambda r: (r.due_at, r.name))
    basis = {
        "status_counts": _status_counts(rows),
        "overdue": {
            "count": len(late),
            "items": [{"name": r.name, "status": r.status, "technician": r.assignee, "due_at": r.due_at.isoformat()}
                      for r in late[:_OVERDUE_SHOWN] if r.due_at is not None],
        },
        "open_ages": _open_ages(rows, now, sla, turns),
        "technicians": _technician_load(rows, now),
        "claimed_amounts": _claimed_amounts(rows, CLAIM_TYPES),
    }
    return basis, min(turns, default=None)


def render(basis: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Every report at ``now`` from a basis that still holds."""
    overdue = basis["overdue"]
    return {
        "now": now.isoformat(),
        "status_counts": basis["status_counts"],
        "overdue": {
            "now": now.isoformat(),
            "count": overdue["count"],
            "items": [{**item, "overdue_hours": _hours(now - datetime.fromisoformat(item["due_at"]))}
                      for item in overdue["items"]],
        },
        "open_ages": [
            {**{k: v for k, v in group.items() if k != "oldest_since"},
             "oldest_hours": None if group["oldest_since"] is None
             else _hours(now - datetime.fromisoformat(group["oldest_since"]))}
            for group in basis["open_ages"]
        ],
        "technicians": basis["technicians"],
        "claimed_amounts": basis["claimed_amounts"],
    }


def _status_counts(rows: Iterable[ReportRow]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        counts[row.type][row.status or "none"] += 1
    return {kind: dict(sorted(by_status.items())) for kind, by_status in sorted(counts.items())}


def _open_ages(
    rows: Iterable[ReportRow], now: datetime, sla: Mapping[tuple[str, str], timedelta], turns: list[datetime]
) -> list[dict[str, Any]]:
    """Per (type, open status): count, the oldest ``status_updated_at``, the service level, how many exceed it."""
    groups: dict[tuple[str, str], list[ReportRow]] = defaultdict(list)
    for row in rows:
        if _open(row) and row.status is not None:
            groups[(row.type, row.status)].append(row)
    report = []
    for (kind, status), members in sorted(groups.items()):
        since = [r.status_since for r in members if r.status_since is not None]
        limit = sla.get((kind, status))
        over = None
        if limit is not None:
            over = sum(1 for at in since if now - at > limit)
            turns.extend(at + limit for at in since if now - at <= limit)
        report.append({
            "type": kind, "status": status, "count": len(members),
            "oldest_since": min(since).isoformat() if since else None,
            "sla_hours": None if limit is None else limit.total_seconds() / 3600,
            "over_sla": over,
        })
    return report


def _technician_load(rows: Iterable[ReportRow], now: datetime) -> list[dict[str, Any]]:
    """Open work orders per technician (``null``: unassigned), with how many are overdue; busiest first."""
    load: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        if row.type == "work_order" and _open(row):
            load[row.assignee][0] += 1
            load[row.assignee][1] += row.due_at is not None and row.due_at < now
    ordered = sorted(load.items(), key=lambda item: (-item[1][0], item[0] or ""))
    return [{"technician": who, "open": counts[0], "overdue": counts[1]} for who, counts in ordered]


def _claimed_amounts(rows: Iterable[ReportRow], types: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
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
