"""Columns the SQL store derives from a projection's body, so list filters and reports are plain indexed SQL.

They are a function of the body alone (never of the clock), so every hub node writes the same values for the
same record, and a migration can fill them for rows written before they existed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from conflict import RECORD_TYPES

__all__ = ["AMOUNT_FIELDS", "DERIVED_COLUMNS", "NUMBER_FIELDS", "derived_columns"]

#: The field holding the amount claimed, per record type (reports sum it by status).
AMOUNT_FIELDS = {"warranty_claim": "claim_amount", "insurance_claim": "estimated_loss"}
#: The field holding a record's human number, per record type (text search looks in it).
NUMBER_FIELDS = {
    "work_order": "number", "warranty_claim": "claim_number", "policy": "policy_number",
    "insurance_claim": "claim_number",
}
#: The columns ``derived_columns`` gives, as named in the projections table.
DERIVED_COLUMNS = ("due_at", "team", "amount", "status_since", "search")
_SEARCH_CHARS = 1000


def derived_columns(record_type: str, body: dict[str, Any]) -> dict[str, Any]:
    """``due_at``, ``team``, ``amount``, ``status_since`` and ``search`` of a record of ``record_type``.

    A value that does not read as its type (a malformed due time, a text amount) gives ``None``: the record
    keeps its other columns, and its validation problems are in the body already.
    """
    record = body.get("record")
    record = record if isinstance(record, dict) else {}
    kind = RECORD_TYPES.get(record_type)
    due_field = kind.due_field if kind is not None else None
    amount_field = AMOUNT_FIELDS.get(record_type)
    team = record.get("team")
    return {
        "due_at": _instant(record.get(due_field)) if due_field else None,
        "team": team[:128] if isinstance(team, str) and team else None,
        "amount": _amount(record.get(amount_field)) if amount_field else None,
        "status_since": _instant(record.get("status_updated_at")),
        "search": _search_text(record_type, record),
    }


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else None


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def _search_text(record_type: str, record: dict[str, Any]) -> str | None:
    """Title, number and customer, lower-cased: what ``q`` looks in."""
    parts = [record.get("title"), record.get(NUMBER_FIELDS.get(record_type, "number"))]
    customer = record.get("customer")
    if isinstance(customer, dict):
        parts += [customer.get("name"), customer.get("customer_id")]
    elif isinstance(customer, str):
        parts.append(customer)
    text = " ".join(part for part in parts if isinstance(part, str) and part)
    return text.lower()[:_SEARCH_CHARS] or None
