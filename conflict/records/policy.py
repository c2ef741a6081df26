"""Insurance policies.

Status ``RENEWED`` is kept, with a precise meaning: each policy record is one term (its dates and premium
never change once active), and renewing creates the next term as a new policy record (``renewal_of`` points
back) while this one ends as ``RENEWED``. Editing the dates of an active term in place would rewrite the
contract that past claims were judged against.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

import msgspec

from conflict.records.common import Amount, Attachment, Currency, Customer, Note, Record, non_negative


class PolicyStatus(StrEnum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    LAPSED = "LAPSED"
    RENEWED = "RENEWED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class PaymentFrequency(StrEnum):
    MONTHLY = "MONTHLY"
    QUARTERLY = "QUARTERLY"
    SEMI_ANNUAL = "SEMI_ANNUAL"
    ANNUAL = "ANNUAL"


class InsuranceProduct(msgspec.Struct, kw_only=True):
    product_id: str | None = None
    name: str | None = None
    line: str | None = None


class Policy(Record, kw_only=True):
    policy_number: str | None = None
    status: PolicyStatus | None = None
    customer: Customer | None = None
    agent: str | None = None
    product: InsuranceProduct | None = None
    effective_date: date | None = None
    expiration_date: date | None = None
    annual_premium: Amount | None = None
    currency: Currency | None = None
    term_years: Annotated[int, msgspec.Meta(ge=1)] | None = None
    coverage_amount: Amount | None = None
    deductible: Amount | None = None
    payment_frequency: PaymentFrequency | None = None
    renewal_of: str | None = None
    notes: list[Note] = []
    documents: list[Attachment] = []

    def __post_init__(self) -> None:
        non_negative(self, "annual_premium", "coverage_amount", "deductible")
