"""Record lifecycles as data: which status changes exist, and which roles may make each one.

A transition from ``None`` creates a record in an initial status. Setting the status it already has is not a
change and is always allowed. Admins may make every transition that exists, and no role may make one that
does not. ``conflict/LIFECYCLES.md`` is rendered from these tables by ``render_lifecycle_table``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from conflict.codes import ViolationCode
from conflict.errors import UnknownRecordType
from conflict.records.insurance_claim import InsuranceClaimStatus as IC
from conflict.records.policy import PolicyStatus as PS
from conflict.records.warranty_claim import WarrantyClaimStatus as WC
from conflict.records.work_order import WorkOrderStatus as WO
from conflict.roles import Role
from conflict.verdicts import ALLOWED, Verdict, refuse


@dataclass(frozen=True, slots=True)
class Transition:
    """One allowed status change. ``source`` is ``None`` for the creation of a record."""

    source: str | None
    target: str
    roles: frozenset[str]


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """The state machine of one record type."""

    record_type: str
    #: Every status, in the order of the record's usual life.
    statuses: tuple[str, ...]
    #: Statuses that leave no transition: the record's life is over.
    final: frozenset[str]
    #: Statuses in which the record still awaits work (the ones it can be overdue in).
    open: frozenset[str]
    transitions: tuple[Transition, ...]
    #: Why the machine looks the way it does, shown above its table.
    summary: str

    @property
    def initial(self) -> frozenset[str]:
        """Statuses a record may be created in."""
        return frozenset(t.target for t in self.transitions if t.source is None)

    def find(self, source: str | None, target: str) -> Transition | None:
        return next((t for t in self.transitions if t.source == source and t.target == target), None)


def _moves(sources: Iterable[str | None], targets: Iterable[str], *roles: Role) -> list[Transition]:
    owners = frozenset({*roles, Role.ADMIN})
    return [Transition(s, t, owners) for s in sources for t in targets]


_NEW = (None,)

_WORK_ORDER = Lifecycle(
    record_type="work_order",
    statuses=tuple(WO),
    final=frozenset({WO.CLOSED, WO.CANCELLED}),
    open=frozenset({WO.OPEN, WO.SCHEDULED, WO.IN_PROGRESS, WO.PENDING_APPROVAL}),
    summary=(
        "Supervisors dispatch and sign off; technicians do the work and may start an unscheduled job on site, "
        "send a job back to scheduling when a second visit is needed, or hand it in for approval. "
        "A completed job is closed by a supervisor once its paperwork is done."
    ),
    transitions=(
        *_moves(_NEW, [WO.OPEN], Role.TECHNICIAN, Role.SUPERVISOR),
        *_moves([WO.OPEN], [WO.SCHEDULED], Role.SUPERVISOR),
        *_moves([WO.SCHEDULED], [WO.OPEN], Role.SUPERVISOR),
        *_moves([WO.OPEN, WO.SCHEDULED], [WO.IN_PROGRESS], Role.TECHNICIAN, Role.SUPERVISOR),
        *_moves([WO.IN_PROGRESS], [WO.SCHEDULED, WO.PENDING_APPROVAL], Role.TECHNICIAN, Role.SUPERVISOR),
        *_moves([WO.IN_PROGRESS, WO.PENDING_APPROVAL], [WO.COMPLETED], Role.SUPERVISOR),
        *_moves([WO.PENDING_APPROVAL], [WO.IN_PROGRESS], Role.SUPERVISOR),
        *_moves([WO.COMPLETED], [WO.CLOSED], Role.SUPERVISOR),
        *_moves([WO.OPEN, WO.SCHEDULED, WO.IN_PROGRESS, WO.PENDING_APPROVAL], [WO.CANCELLED], Role.SUPERVISOR),
    ),
)

_WARRANTY_CLAIM = Lifecycle(
    record_type="warranty_claim",
    statuses=tuple(WC),
    final=frozenset({WC.REJECTED, WC.COMPLETED, WC.CANCELLED}),
    open=frozenset({WC.SUBMITTED, WC.IN_REVIEW, WC.REQUIRES_INFO, WC.APPROVED, WC.PROCESSING}),
    summary=(
        "Claims agents run the review; decisions that commit or refuse money (approve, reject, complete) "
        "belong to claims managers. A customer answers a request for information by sending the claim back "
        "to review, and may withdraw a claim until it is approved."
    ),
    transitions=(
        *_moves(_NEW, [WC.SUBMITTED], Role.CUSTOMER, Role.TECHNICIAN, Role.CLAIMS_AGENT, Role.CLAIMS_MANAGER),
        *_moves([WC.SUBMITTED], [WC.IN_REVIEW], Role.CLAIMS_AGENT, Role.CLAIMS_MANAGER),
        *_moves([WC.IN_REVIEW], [WC.APPROVED, WC.REJECTED], Role.CLAIMS_MANAGER),
        *_moves([WC.IN_REVIEW], [WC.REQUIRES_INFO], Role.CLAIMS_AGENT, Role.CLAIMS_MANAGER),
        *_moves([WC.REQUIRES_INFO], [WC.IN_REVIEW], Role.CUSTOMER, Role.CLAIMS_AGENT, Role.CLAIMS_MANAGER),
        *_moves([WC.APPROVED], [WC.PROCESSING], Role.CLAIMS_AGENT, Role.CLAIMS_MANAGER),
        *_moves([WC.PROCESSING], [WC.COMPLETED, WC.REJECTED], Role.CLAIMS_MANAGER),
        *_moves([WC.SUBMITTED, WC.IN_REVIEW, WC.REQUIRES_INFO], [WC.CANCELLED], Role.CUSTOMER, Role.CLAIMS_MANAGER),
        *_moves([WC.APPROVED, WC.PROCESSING], [WC.CANCELLED], Role.CLAIMS_MANAGER),
    ),
)

_POLICY = Lifecycle(
    record_type="policy",
    statuses=tuple(PS),
    final=frozenset({PS.RENEWED, PS.CANCELLED, PS.EXPIRED}),
    open=frozenset({PS.DRAFT, PS.ACTIVE, PS.LAPSED}),
    summary=(
        "A policy record is one term. Agents bind a draft, mark a term lapsed when its premium goes unpaid and "
        "reinstate it when paid; at the end of the term it expires, or ends as RENEWED when the next term "
        "(a new policy record with `renewal_of`) replaces it. A customer may start a quote and may cancel."
    ),
    transitions=(
        *_moves(_NEW, [PS.DRAFT], Role.AGENT, Role.CUSTOMER),
        *_moves([PS.DRAFT], [PS.ACTIVE], Role.AGENT),
        *_moves([PS.ACTIVE], [PS.LAPSED, PS.RENEWED, PS.EXPIRED], Role.AGENT),
        *_moves([PS.LAPSED], [PS.ACTIVE, PS.EXPIRED], Role.AGENT),
        *_moves([PS.DRAFT, PS.ACTIVE], [PS.CANCELLED], Role.AGENT, Role.CUSTOMER),
        *_moves([PS.LAPSED], [PS.CANCELLED], Role.AGENT),
    ),
)

_INSURANCE_CLAIM = Lifecycle(
    record_type="insurance_claim",
    statuses=tuple(IC),
    final=frozenset({IC.CLOSED}),
    open=frozenset({IC.REPORTED, IC.ASSIGNED, IC.INVESTIGATING, IC.PENDING_INFO, IC.APPROVED}),
    summary=(
        "Anyone involved may report a loss; a claims manager assigns it to an adjuster, who investigates and "
        "may approve within their authority. Denials and settlements are signed off by a claims manager. "
        "Every path ends in CLOSED; a claim withdrawn or found to be a duplicate is closed directly."
    ),
    transitions=(
        *_moves(
            _NEW,
            [IC.REPORTED],
            Role.CUSTOMER,
            Role.AGENT,
            Role.CLAIMS_AGENT,
            Role.ADJUSTER,
            Role.CLAIMS_MANAGER,
        ),
        *_moves([IC.REPORTED], [IC.ASSIGNED], Role.CLAIMS_MANAGER),
        *_moves([IC.ASSIGNED], [IC.INVESTIGATING], Role.ADJUSTER, Role.CLAIMS_MANAGER),
        *_moves([IC.INVESTIGATING], [IC.PENDING_INFO], Role.ADJUSTER, Role.CLAIMS_MANAGER),
        *_moves([IC.PENDING_INFO], [IC.INVESTIGATING], Role.CUSTOMER, Role.ADJUSTER, Role.CLAIMS_MANAGER),
        *_moves([IC.INVESTIGATING], [IC.APPROVED], Role.ADJUSTER, Role.CLAIMS_MANAGER),
        *_moves([IC.INVESTIGATING], [IC.DENIED], Role.CLAIMS_MANAGER),
        *_moves([IC.APPROVED], [IC.SETTLED], Role.CLAIMS_MANAGER),
        *_moves([IC.SETTLED, IC.DENIED], [IC.CLOSED], Role.ADJUSTER, Role.CLAIMS_MANAGER),
        *_moves([IC.REPORTED, IC.ASSIGNED, IC.INVESTIGATING, IC.PENDING_INFO], [IC.CLOSED], Role.CLAIMS_MANAGER),
    ),
)

#: Every lifecycle, by record type.
LIFECYCLES: Mapping[str, Lifecycle] = MappingProxyType(
    {lc.record_type: lc for lc in (_WORK_ORDER, _WARRANTY_CLAIM, _POLICY, _INSURANCE_CLAIM)}
)


def lifecycle_of(record_type: str) -> Lifecycle:
    """The lifecycle of ``record_type``; raises ``UnknownRecordType`` (companions have none)."""
    lifecycle = LIFECYCLES.get(record_type)
    if lifecycle is None:
        raise UnknownRecordType(f"record type {str(record_type)[:80]!r} has no lifecycle")
    return lifecycle


def initial_statuses(record_type: str) -> frozenset[str]:
    return lifecycle_of(record_type).initial


def final_statuses(record_type: str) -> frozenset[str]:
    return lifecycle_of(record_type).final


def check_transition(
    record_type: str, old_status: str | None, new_status: str | None, roles: Iterable[str]
) -> Verdict:
    """Whether an author holding ``roles`` may change a record's status from ``old_status`` to ``new_status``.

    ``old_status`` is ``None`` for a new record. Statuses come from user data and are checked, not trusted:
    an unknown status, or clearing the status, is an invalid transition.
    """
    lifecycle = lifecycle_of(record_type)
    if old_status == new_status:
        return ALLOWED
    if new_status is None:
        return refuse(ViolationCode.INVALID_TRANSITION, f"the status of a {record_type} cannot be removed")
    transition = lifecycle.find(old_status, new_status)
    if transition is None:
        source = "a new record" if old_status is None else repr(old_status)
        return refuse(
            ViolationCode.INVALID_TRANSITION,
            f"a {record_type} cannot go from {source} to {new_status!r:.60}",
        )
    if transition.roles.isdisjoint(roles):
        return refuse(
            ViolationCode.ROLE_NOT_ALLOWED,
            f"{old_status or 'new'} -> {new_status} on a {record_type} needs one of the roles "
            f"{', '.join(sorted(transition.roles))}",
        )
    return ALLOWED


def allowed_targets(record_type: str, old_status: str | None, roles: Iterable[str]) -> tuple[str, ...]:
    """The statuses an author holding ``roles`` may move the record to from ``old_status``, in lifecycle order."""
    lifecycle = lifecycle_of(record_type)
    held = frozenset(roles)
    reachable = {t.target for t in lifecycle.transitions if t.source == old_status and not t.roles.isdisjoint(held)}
    return tuple(status for status in lifecycle.statuses if status in reachable)


def _role_order(role: str) -> int:
    members = list(Role)
    return members.index(Role(role)) if role in members else len(members)


def _listing(lifecycle: Lifecycle, statuses: frozenset[str]) -> str:
    return ", ".join(f"`{status}`" for status in lifecycle.statuses if status in statuses)


def render_lifecycle_table() -> str:
    """The Markdown text of ``conflict/LIFECYCLES.md``: one table of transitions per record type."""
    lines = [
        "# Record lifecycles",
        "",
        "Rendered from `conflict/lifecycle.py` by `conflict.render_lifecycle_table()`; do not edit by hand",
        "(a test compares this file with the rendered text). A transition from *(new)* creates a record.",
        "Setting the status a record already has is not a transition and is always allowed.",
    ]
    for lifecycle in LIFECYCLES.values():
        lines += [
            "",
            f"## {lifecycle.record_type}",
            "",
            lifecycle.summary,
            "",
            f"Initial: {_listing(lifecycle, lifecycle.initial)}. Final: {_listing(lifecycle, lifecycle.final)}.",
            "",
            "| From | To | Roles |",
            "| --- | --- | --- |",
        ]
        for t in lifecycle.transitions:
            source = "*(new)*" if t.source is None else f"`{t.source}`"
            roles = ", ".join(sorted(t.roles, key=_role_order))
            lines.append(f"| {source} | `{t.target}` | {roles} |")
    return "\n".join(lines) + "\n"
