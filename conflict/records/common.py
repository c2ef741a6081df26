"""Types shared by several record schemas.

Every field has a default: an offline draft may lack any of them, and a newer app version may add fields
(schemas evolve by adding defaulted fields only; a field's type never changes). Timestamps must carry a time
zone; amounts are decimals and accept JSON numbers or decimal strings.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

import msgspec

#: An instant with its time zone (RFC 3339 text in a document).
Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]
#: A money amount, never negative (``non_negative`` checks it); the currency is a sibling field.
Amount = Decimal
#: An ISO 4217 currency code.
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
#: A duration in whole minutes.
Minutes = Annotated[int, msgspec.Meta(ge=0)]


def non_negative(struct: msgspec.Struct, *fields: str) -> None:
    """Refuse negative decimals (msgspec bounds only ints and floats); call from ``__post_init__``."""
    for name in fields:
        value = getattr(struct, name)
        if value is not None and value < 0:
            raise ValueError(f"`{name}` must not be negative")


class Priority(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class Entry(msgspec.Struct, kw_only=True):
    """Metadata every list entry may carry.

    Lists are append-only. An entry with an ``id`` is one version of an item; changing the item (a task done,
    a payment paid) appends a new version with the same ``id`` and a greater ``hlc``, and readers see the
    latest version (``conflict.current_entries``). ``user`` and ``device`` say who appended it.
    """

    id: str | None = None
    hlc: str | None = None
    user: str | None = None
    device: str | None = None


class Customer(msgspec.Struct, kw_only=True):
    customer_id: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class Note(Entry, kw_only=True):
    text: str = ""
    at: Timestamp | None = None


class Attachment(Entry, kw_only=True):
    """A document attached to a record; the file itself lives outside the CRDT, found by its hash."""

    type: str | None = None
    name: str | None = None
    uploaded_by: str | None = None
    uploaded_at: Timestamp | None = None
    content_hash: str | None = None


class PaymentStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    PAID = "PAID"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class Payment(Entry, kw_only=True):
    """One version of a payment; ``status`` is owned by claims managers (see ``conflict.policies``)."""

    amount: Amount | None = None
    currency: Currency | None = None
    status: PaymentStatus = PaymentStatus.PENDING
    paid_at: Timestamp | None = None
    reference: str | None = None

    def __post_init__(self) -> None:
        non_negative(self, "amount")


class StatusChange(Entry, kw_only=True):
    """A history entry the hub appends for every status change it accepts."""

    old: str | None = None
    new: str | None = None
    by: str | None = None
    at: Timestamp | None = None


class Record(msgspec.Struct, kw_only=True):
    """Fields every record type has; the hub maintains both."""

    status_updated_at: Timestamp | None = None
    history: list[StatusChange] = []
