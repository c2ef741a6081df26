"""``/api/reports``: dashboards' figures over the records the token may read, judged at the request's instant.

Every route renders one basis (``report_basis``), cached per tenant and visibility until a record of
the tenant changes or the clock moves a record into overdue or over its service level.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency

from server.api import figures
from server.api.answers import AnswerCache
from server.api.params import MAIN_TYPES, check_known
from server.api.visibility import readable, reads_every, visibility_key
from sync import Hub, Principal, RecordFilter, RecordOrder

__all__ = ["ReportsController", "report_basis"]

HttpRequest = Request[Any, Any, Any]
Caller = NamedDependency[Principal]


async def report_basis(
    hub: Hub, principal: Principal, now: datetime, sla: Mapping[tuple[str, str], timedelta]
) -> tuple[dict[str, Any], datetime | None]:
    """The basis of the reports over what ``principal`` may read (``figures``).

    Record types it reads entirely are counted by the store (``GROUP BY``); the others are read row by row
    and judged by ``readable``.
    """
    every = tuple(kind for kind in MAIN_TYPES if reads_every(principal, kind))
    some = tuple(kind for kind in MAIN_TYPES if kind not in every)
    limits = figures.cutoffs(now, sla)
    groups = await hub.store.report_groups(principal.tenant, types=every, now=now, cutoffs=limits)
    late: list[dict[str, Any]] = []
    if "work_order" in every:
        listed = await hub.store.list_records(
            principal.tenant, RecordFilter(type="work_order", overdue=True, now=now), RecordOrder("due_at"),
            limit=figures.OVERDUE_SHOWN,
        )
        late = [figures.late_item(item.projection.name, item.projection.status, item.projection.assignee, item.key)
                for item in listed]
    if some:
        candidates = await hub.store.report_rows(principal.tenant, types=some, with_record=True)
        rows = [row for row in candidates if readable(principal, row.type, row.record or {})]
        groups += figures.groups_of(rows, now, limits)
        late = sorted(late + figures.late_items(rows, now), key=lambda item: (item["due_at"], item["name"]))
    return figures.basis_of(groups, late, now, sla)


async def _reports(request: HttpRequest, principal: Principal) -> dict[str, Any]:
    check_known(request, ())
    hub: Hub = request.app.state.hub
    sla: Mapping[tuple[str, str], timedelta] = request.app.state.report_sla

    async def compute() -> tuple[bytes, float | None]:
        at = datetime.now(UTC)
        basis, valid_until = await report_basis(hub, principal, at, sla)
        ttl = None if valid_until is None else (valid_until - at).total_seconds()
        return json.dumps(basis).encode(), ttl

    answers: AnswerCache = request.app.state.answers
    basis = json.loads(await answers.fetch(principal.tenant, f"reports:{visibility_key(principal)}", compute))
    return figures.render(basis, datetime.now(UTC))


class ReportsController(Controller):
    """Figures for the dashboards, over the token's tenant and what it may read."""

    path = "/api/reports"
    tags = ["reports"]

    @get("/", summary="Every report at once",
         description="The five reports below in one answer, all judged at the same instant (`now`).")
    async def all_reports(self, request: HttpRequest, principal: Caller) -> dict[str, Any]:
        return await _reports(request, principal)

    @get("/status-counts", summary="Records by status",
         description="Per record type, how many records are in each status.")
    async def status_counts(self, request: HttpRequest, principal: Caller) -> dict[str, Any]:
        return (await _reports(request, principal))["status_counts"]  # type: ignore[no-any-return]

    @get("/overdue", summary="Overdue work orders",
         description="Work orders in an open status whose `due_at` has passed, by the clock at this request "
                     "(no write is needed for a record to become overdue): the count and the 100 most overdue.")
    async def overdue(self, request: HttpRequest, principal: Caller) -> dict[str, Any]:
        return (await _reports(request, principal))["overdue"]  # type: ignore[no-any-return]

    @get("/open-ages", summary="Ages of open records against their service levels",
         description="Per record type and open status: how many records, the oldest age in that status (hours, "
                     "from `status_updated_at`), the service level (`FIELDSYNC_REPORT_SLA`) and how many exceed it.")
    async def open_ages(self, request: HttpRequest, principal: Caller) -> list[dict[str, Any]]:
        return (await _reports(request, principal))["open_ages"]  # type: ignore[no-any-return]

    @get("/technicians", summary="Open work per technician",
         description="Open work orders per technician (null: unassigned) and how many of them are overdue.")
    async def technicians(self, request: HttpRequest, principal: Caller) -> list[dict[str, Any]]:
        return (await _reports(request, principal))["technicians"]  # type: ignore[no-any-return]

    @get("/claimed-amounts", summary="Claimed amounts by status",
         description="Warranty claims (`claim_amount`) and insurance claims (`estimated_loss`): per status, how "
                     "many claims, how many state an amount, and the total as a decimal string.")
    async def claimed_amounts(self, request: HttpRequest, principal: Caller) -> dict[str, Any]:
        return (await _reports(request, principal))["claimed_amounts"]  # type: ignore[no-any-return]
