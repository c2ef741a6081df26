"""Warranty claims, and their internal companion document (fraud flag and internal notes)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec

from conflict.records.common import (
    Amount,
    Attachment,
    Currency,
    Customer,
    Entry,
    Note,
    Payment,
    Priority,
    Record,
    Timestamp,
    non_negative,
)


class WarrantyClaimStatus(StrEnum):
    SUBMITTED = "SUBMITTED"
    IN_REVIEW = "IN_REVIEW"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    REQUIRES_INFO = "REQUIRES_INFO"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class Product(msgspec.Struct, kw_only=True):
    product_id: str | None = None
    name: str | None = None
    model: str | None = None
    serial_number: str | None = None


class ApprovalStep(Entry, kw_only=True):
    sequence: Annotated[int, msgspec.Meta(ge=0)] | None = None
    assignee: str | None = None
    required_by: Timestamp | None = None
    approved: bool | None = None
    comments: str | None = None


class WarrantyClaim(Record, kw_only=True):
    claim_number: str | None = None
    status: WarrantyClaimStatus | None = None
    priority: Priority | None = None
    assignee: str | None = None
    team: str | None = None
    """The claims team that handles the claim (team scopes follow it)."""
    product: Product | None = None
    customer: Customer | None = None
    claim_amount: Amount | None = None
    currency: Currency | None = None
    submitted_at: Timestamp | None = None
    description: str | None = None
    notes: list[Note] = []
    documents: list[Attachment] = []
    approval_steps: list[ApprovalStep] = []
    payments: list[Payment] = []

    def __post_init__(self) -> None:
        non_negative(self, "claim_amount")


class FraudFlag(msgspec.Struct, kw_only=True):
    suspected: bool = True
    detector: str | None = None
    reason: str | None = None
    confidence: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None


class WarrantyClaimInternal(msgspec.Struct, kw_only=True):
    """``warranty_claim:{id}/internal``: content customers must never receive."""

    fraud_suspected: FraudFlag | None = None
    internal_notes: list[Note] = []
