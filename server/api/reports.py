"""``/api/reports``: dashboards' figures over the records the token may read, judged at the request's instant."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency

from server.api import figures
from server.api.params import MAIN_TYPES, check_known
from server.api.visibility import readable, reads_every
from sync import Hub, Principal, ReportRow

__all__ = ["ReportsController", "report_rows"]

_CLAIM_TYPES = ("warranty_claim", "insurance_claim")
HttpRequest = Request[Any, Any, Any]
Caller = NamedDependency[Principal]


async def report_rows(hub: Hub, principal: Principal, types: tuple[str, ...] = MAIN_TYPES) -> list[ReportRow]:
    """The rows of ``types`` that ``principal`` may read: the record maps are read only where access needs them."""
    every = tuple(kind for kind in types if reads_every(principal, kind))
    some = tuple(kind for kind in types if kind not in every)
    rows = await hub.store.report_rows(principal.tenant, types=every)
    if some:
        candidates = await hub.store.report_rows(principal.tenant, types=some, with_record=True)
        rows += [row for row in candidates if readable(principal, row.type, row.record or {})]
    return rows


def _sla(request: HttpRequest) -> Mapping[tuple[str, str], timedelta]:
    return request.app.state.report_sla  # type: ignore[no-any-return]


class ReportsController(Controller):
    """Figures for the dashboards, over the token's tenant and what it may read."""

    path = "/api/reports"
    tags = ["reports"]

    @get("/", summary="Every report at once",
         description="The five reports below in one answer, all judged at the same instant (`now`).")
    async def all_reports(self, request: HttpRequest, principal: Caller) -> dict[str, Any]:
        check_known(request, ())
        now = datetime.now(UTC)
        rows = await report_rows(request.app.state.hub, principal)
        return {
            "now": now.isoformat(),
            "status_counts": figures.status_counts(rows),
            "overdue": figures.overdue_work_orders(rows, now),
            "open_ages": figures.open_ages(rows, now, _sla(request)),
            "technicians": figures.technician_load(rows, now),
            "claimed_amounts": figures.claimed_amounts(rows, _CLAIM_TYPES),
        }

    @get("/status-counts", summary="Records by status",
         description="Per record type, how many records are in each status.")
    async def status_counts(self, request: HttpRequest, principal: Caller) -> dict[str, Any]:
        check_known(request, ())
        return figures.status_counts(await report_rows(request.app.state.hub, principal))

    @get("/overdue", summary="Overdue work orders",
         description="Work orders in an open status whose `due_at` has passed, by the clock at this request "
                     "(no write is needed for a record to become overdue): the count and the 100 most overdue.")
    async def overdue(self, request: HttpRequest, principal: Caller) -> dict[str, Any]:
        check_known(request, ())
        rows = await report_rows(request.app.state.hub, principal, ("work_order",))
        return figures.overdue_work_orders(rows, datetime.now(UTC))

    @get("/open-ages", summary="Ages of open records against their service levels",
         description="Per record type and open status: how many records, the oldest age in that status (hours, "
                     "from `status_updated_at`), the service level (`FIELDSYNC_REPORT_SLA`) and how many exceed it.")
    async def open_ages(self, request: HttpRequest, principal: Caller) -> list[dict[str, Any]]:
        check_known(request, ())
        rows = await report_rows(request.app.state.hub, principal)
        return figures.open_ages(rows, datetime.now(UTC), _sla(request))

    @get("/technicians", summary="Open work per technician",
         description="Open work orders per technician (null: unassigned) and how many of them are overdue.")
    async def technicians(self, request: HttpRequest, principal: Caller) -> list[dict[str, Any]]:
        check_known(request, ())
        rows = await report_rows(request.app.state.hub, principal, ("work_order",))
        return figures.technician_load(rows, datetime.now(UTC))

    @get("/claimed-amounts", summary="Claimed amounts by status",
         description="Warranty claims (`claim_amount`) and insurance claims (`estimated_loss`): per status, how "
                     "many claims, how many state an amount, and the total as a decimal string.")
    async def claimed_amounts(self, request: HttpRequest, principal: Caller) -> dict[str, Any]:
        check_known(request, ())
        rows = await report_rows(request.app.state.hub, principal, _CLAIM_TYPES)
        return figures.claimed_amounts(rows, _CLAIM_TYPES)
