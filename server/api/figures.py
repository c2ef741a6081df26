"""The reports' figures, in two steps: a *basis* that holds instants, and its rendering at each request.

The basis is built from ``ReportGroup``s (counts and sums per type, status and assignee, which the store
computes with ``GROUP BY``; ``groups_of`` computes the same from rows where access must judge each record)
and the most overdue work orders. It is what the cache keeps: everything in it stays true until
``valid_until`` (the next instant at which the clock alone moves a record into overdue or over its service
level), and durations (hours overdue, age of the oldest record) are rendered from its instants, so no figure
goes stale by time. Pure functions, no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from conflict import LIFECYCLES
from sync import ReportGroup, ReportRow

__all__ = ["CLAIM_TYPES", "OVERDUE_SHOWN", "basis_of", "cutoffs", "groups_of", "late_items", "render"]

CLAIM_TYPES = ("warranty_claim", "insurance_claim")
#: How many of the most overdue work orders the overdue report lists.
OVERDUE_SHOWN = 100


def _open(kind: str, status: str | None) -> bool:
    lifecycle = LIFECYCLES.get(kind)
    return lifecycle is not None and status in lifecycle.open


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def cutoffs(now: datetime, sla: Mapping[tuple[str, str], timedelta]) -> dict[tuple[str, str], datetime]:
    """Per (type, status): records in that status since before this instant are over their service level."""
    return {key: now - limit for key, limit in sla.items()}


def groups_of(
    rows: Iterable[ReportRow], now: datetime, limits: Mapping[tuple[str, str], datetime]
) -> list[ReportGroup]:
    """What the store's ``report_groups`` gives, computed from rows (for records access judges one by one)."""
    acc: dict[tuple[str, str | None, str | None], dict[str, Any]] = {}
    for row in rows:
        g = acc.setdefault((row.type, row.status, row.assignee), {
            "count": 0, "overdue": 0, "next_due": None, "with_amount": 0, "amount": Decimal(0),
            "oldest_since": None, "over_limit": 0, "next_since": None,
        })
        g["count"] += 1
        if _open(row.type, row.status) and row.due_at is not None:
            if row.due_at < now:
                g["overdue"] += 1
            elif g["next_due"] is None or row.due_at < g["next_due"]:
                g["next_due"] = row.due_at
        if row.amount is not None:
            g["with_amount"] += 1
            g["amount"] += row.amount
        since = row.status_since
        if since is not None:
            if g["oldest_since"] is None or since < g["oldest_since"]:
                g["oldest_since"] = since
            cutoff = limits.get((row.type, row.status or ""))
            if cutoff is not None:
                if since < cutoff:
                    g["over_limit"] += 1
                elif g["next_since"] is None or since < g["next_since"]:
                    g["next_since"] = since
    return [ReportGroup(type=kind, status=status, assignee=who, **g) for (kind, status, who), g in acc.items()]


def late_items(rows: Iterable[ReportRow], now: datetime) -> list[dict[str, Any]]:
    """The most overdue open work orders among ``rows``, most overdue first."""
    late = sorted((r for r in rows if r.type == "work_order" and _open(r.type, r.status) and r.due_at is not None
                   and r.due_at < now), key=lambda r: (r.due_at, r.name))
    return [late_item(r.name, r.status, r.assignee, r.due_at) for r in late[:OVERDUE_SHOWN] if r.due_at is not None]


def late_item(name: str, status: str | None, technician: str | None, due_at: datetime) -> dict[str, Any]:
    return {"name": name, "status": status, "technician": technician, "due_at": due_at.astimezone(UTC).isoformat()}


def basis_of(
    groups: Sequence[ReportGroup], late: Sequence[dict[str, Any]], now: datetime,
    sla: Mapping[tuple[str, str], timedelta],
) -> tuple[dict[str, Any], datetime | None]:
    """The basis of every report at ``now`` and until when it holds (``None``: until the records change)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    ages: dict[tuple[str, str], dict[str, Any]] = {}
    load: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    amounts: dict[str, dict[str, list[Any]]] = {kind: {} for kind in CLAIM_TYPES}
    turns: list[datetime] = []
    overdue = 0
    for g in groups:
        status = g.status or "none"
        counts[g.type][status] += g.count
        if g.type in amounts:
            entry = amounts[g.type].setdefault(status, [0, 0, Decimal(0)])
            entry[0] += g.count
            entry[1] += g.with_amount
            entry[2] += g.amount
        if not _open(g.type, g.status) or g.status is None:
            continue
        if g.type == "work_order":
            overdue += g.overdue
            load[g.assignee][0] += g.count
            load[g.assignee][1] += g.overdue
        if g.next_due is not None:
            turns.append(g.next_due)
        limit = sla.get((g.type, g.status))
        age = ages.setdefault((g.type, g.status), {"count": 0, "oldest_since": None, "over_sla": 0})
        age["count"] += g.count
        if g.oldest_since is not None and (age["oldest_since"] is None or g.oldest_since < age["oldest_since"]):
            age["oldest_since"] = g.oldest_since
        age["over_sla"] += g.over_limit
        if limit is not None and g.next_since is not None:
            turns.append(g.next_since + limit)
    basis = {
        "status_counts": {kind: dict(sorted(by.items())) for kind, by in sorted(counts.items())},
        "overdue": {"count": overdue, "items": list(late[:OVERDUE_SHOWN])},
        "open_ages": [
            {"type": kind, "status": status, "count": a["count"],
             "oldest_since": a["oldest_since"].isoformat() if a["oldest_since"] else None,
             "sla_hours": None if (limit := sla.get((kind, status))) is None else limit.total_seconds() / 3600,
             "over_sla": None if limit is None else a["over_sla"]}
            for (kind, status), a in sorted(ages.items())
        ],
        "technicians": [{"technician": who, "open": c[0], "overdue": c[1]}
                        for who, c in sorted(load.items(), key=lambda item: (-item[1][0], item[0] or ""))],
        "claimed_amounts": {
            kind: {status: {"count": c, "with_amount": n, "total": format(total.normalize(), "f") if n else "0"}
                   for status, (c, n, total) in sorted(by.items())}
            for kind, by in amounts.items()
        },
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
