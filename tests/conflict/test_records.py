from __future__ import annotations

import typing
from datetime import datetime, timezone
from decimal import Decimal

import msgspec
import pytest

from conflict import RECORD_TYPES, RecordType, Role, UnknownRecordType, lookup_record_type, record_type_for
from conflict.errors import InvalidDocumentName
from conflict.policies import MergeKind
from conflict.records import (
    FraudFlag,
    Payment,
    PaymentStatus,
    Policy,
    WarrantyClaim,
    WarrantyClaimInternal,
    WarrantyClaimStatus,
    WorkOrder,
    WorkOrderStatus,
)

EVERY_TYPE = [*RECORD_TYPES.values(), *(c for t in RECORD_TYPES.values() for c in t.companions.values())]


def test_the_four_record_types_are_registered() -> None:
    assert set(RECORD_TYPES) == {"work_order", "warranty_claim", "policy", "insurance_claim"}
    assert {name: t.assignee_field for name, t in RECORD_TYPES.items()} == {
        "work_order": "technician",
        "warranty_claim": "assignee",
        "policy": "agent",
        "insurance_claim": "adjuster",
    }


@pytest.mark.parametrize("kind", EVERY_TYPE, ids=lambda t: t.name)
def test_an_empty_draft_is_a_valid_record(kind: RecordType) -> None:
    # Every field has a default: an offline draft may lack any of them.
    record = msgspec.convert({}, kind.schema)
    for info in msgspec.structs.fields(kind.schema):
        assert info.required is False, info.name
    for root in kind.list_roots:
        entry_type = kind.entry_type(root)
        assert entry_type is not None, root
        msgspec.convert({}, entry_type)
        assert getattr(record, root) == []


@pytest.mark.parametrize("kind", EVERY_TYPE, ids=lambda t: t.name)
def test_roots_and_special_fields_match_the_schema(kind: RecordType) -> None:
    hints = typing.get_type_hints(kind.schema, include_extras=True)
    for root in kind.list_roots:
        assert typing.get_origin(hints[root]) is list, root
    for root in kind.text_roots:
        assert hints[root] == str | None, root
    assert len(set(kind.list_roots) | set(kind.text_roots)) == len(kind.list_roots) + len(kind.text_roots)
    for special in (kind.status_field, kind.assignee_field, kind.due_field):
        assert special is None or special in kind.scalar_fields
    for field_name, policy in kind.field_policies.items():
        assert field_name in kind.fields
        assert policy.kind is MergeKind.ROLE_OWNED and Role.ADMIN in policy.owners
    for root, owned in kind.entry_policies.items():
        entry_fields = kind.entry_type(root).__struct_fields__  # type: ignore[union-attr]
        assert set(owned) <= set(entry_fields)


def test_default_policies() -> None:
    work_order = RECORD_TYPES["work_order"]
    assert work_order.policy_for("priority").kind is MergeKind.LAST_WRITER_WINS_HLC
    assert work_order.policy_for("notes").kind is MergeKind.APPEND_ONLY
    internal = lookup_record_type("warranty_claim/internal")
    assert internal.policy_for("fraud_suspected").owners == {"claims_manager", "admin"}
    assert RECORD_TYPES["warranty_claim"].entry_policy_for("payments", "status").owners == {"claims_manager", "admin"}
    assert RECORD_TYPES["warranty_claim"].entry_policy_for("payments", "amount").owners == frozenset()


def test_lookup_by_kind_and_by_document_name() -> None:
    assert lookup_record_type("policy") is RECORD_TYPES["policy"]
    internal = record_type_for("warranty_claim:WC-77/internal")
    assert internal.name == "warranty_claim/internal"
    assert internal.schema is WarrantyClaimInternal
    assert Role.CUSTOMER not in (internal.readers or set())
    assert record_type_for("work_order:WO-1042") is RECORD_TYPES["work_order"]
    for unknown in ("invoice", "work_order/internal", "warranty_claim/secret", ""):
        with pytest.raises(UnknownRecordType):
            lookup_record_type(unknown)
    with pytest.raises(InvalidDocumentName):
        record_type_for("work_order")


def test_a_full_work_order_decodes_from_document_json() -> None:
    raw = {
        "number": "WO-1042",
        "title": "Replace compressor",
        "status": "IN_PROGRESS",
        "priority": "HIGH",
        "due_at": "2024-06-01T17:00:00Z",
        "estimated_minutes": 90.0,  # pycrdt hands every number back as a float
        "technician": "tech-7",
        "equipment": {"equipment_id": "EQ-1", "name": "Chiller", "number": "SN-9", "location": "Roof"},
        "tasks": [{"id": "t1", "title": "Drain", "status": "DONE", "first_time_fix": True}],
        "parts_used": [{"part_number": "P-1", "quantity": 2.0, "unit_cost": "19.90"}],
        "notes": [{"text": "on site", "at": "2024-06-01T09:00:00+02:00"}],
    }
    order = msgspec.convert(raw, WorkOrder, strict=False)
    assert order.status is WorkOrderStatus.IN_PROGRESS
    assert order.estimated_minutes == 90
    assert order.due_at == datetime(2024, 6, 1, 17, tzinfo=timezone.utc)
    assert order.parts_used[0].unit_cost == Decimal("19.90")
    assert order.tasks[0].first_time_fix is True


def test_unknown_fields_are_ignored_by_the_schema() -> None:
    claim = msgspec.convert({"claim_number": "WC-1", "added_in_v9": {"x": 1}}, WarrantyClaim, strict=False)
    assert claim.claim_number == "WC-1"
    assert claim.status is None


@pytest.mark.parametrize(
    ("schema", "raw"),
    [
        (WarrantyClaim, {"claim_amount": -1}),
        (WarrantyClaim, {"currency": "euro"}),
        (WarrantyClaim, {"status": "DONE"}),
        (WorkOrder, {"due_at": "2024-06-01T17:00:00"}),  # no time zone
        (WorkOrder, {"estimated_minutes": -5}),
        (WorkOrder, {"parts_used": [{"quantity": -1}]}),
        (Policy, {"term_years": 0}),
        (Policy, {"deductible": "-10"}),
        (Payment, {"amount": -0.01}),
        (FraudFlag, {"confidence": 1.5}),
    ],
)
def test_invalid_values_are_refused(schema: type[msgspec.Struct], raw: dict) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(raw, schema, strict=False)


def test_payment_defaults_to_pending() -> None:
    assert Payment().status is PaymentStatus.PENDING
    assert WarrantyClaimStatus("REQUIRES_INFO") is WarrantyClaimStatus.REQUIRES_INFO
