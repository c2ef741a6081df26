"""Insurance claims: a loss reported against a policy, investigated by an adjuster, settled or denied, closed."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from conflict.records.common import (
    Amount,
    Attachment,
    Customer,
    Currency,
    Entry,
    Note,
    Payment,
    Record,
    Timestamp,
    non_negative,
)


class InsuranceClaimStatus(StrEnum):
    REPORTED = "REPORTED"
    ASSIGNED = "ASSIGNED"
    INVESTIGATING = "INVESTIGATING"
    PENDING_INFO = "PENDING_INFO"
    APPROVED = "APPROVED"
    DENIED = "DENIED"
    SETTLED = "SETTLED"
    CLOSED = "CLOSED"


class Severity(StrEnum):
    MINOR = "MINOR"
    MODERATE = "MODERATE"
    MAJOR = "MAJOR"
    CATASTROPHIC = "CATASTROPHIC"


class InvolvedParty(Entry, kw_only=True):
    role: str | None = None
    name: str | None = None
    contact: str | None = None
    insurer: str | None = None


class InsuranceClaim(Record, kw_only=True):
    claim_number: str | None = None
    policy_id: str | None = None
    claim_type: str | None = None
    severity: Severity | None = None
    status: InsuranceClaimStatus | None = None
    date_of_loss: date | None = None
    reported_at: Timestamp | None = None
    loss_location: str | None = None
    adjuster: str | None = None
    agent: str | None = None
    customer: Customer | None = None
    estimated_loss: Amount | None = None
    currency: Currency | None = None
    description: str | None = None
    involved_parties: list[InvolvedParty] = []
    notes: list[Note] = []
    documents: list[Attachment] = []
    payments: list[Payment] = []

    def __post_init__(self) -> None:
        non_negative(self, "estimated_loss")
