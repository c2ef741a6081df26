"""Record schemas (msgspec Structs) and the registry of record types."""

from __future__ import annotations

from conflict.records.common import (
    Attachment,
    Customer,
    Entry,
    Note,
    Payment,
    PaymentStatus,
    Priority,
    Record,
    StatusChange,
)
from conflict.records.insurance_claim import InsuranceClaim, InsuranceClaimStatus, InvolvedParty, Severity
from conflict.records.policy import InsuranceProduct, PaymentFrequency, Policy, PolicyStatus
from conflict.records.registry import (
    INSURANCE_CLAIM,
    POLICY,
    RECORD_TYPES,
    WARRANTY_CLAIM,
    WARRANTY_CLAIM_INTERNAL,
    WORK_ORDER,
    RecordType,
    lookup_record_type,
    record_type_for,
)
from conflict.records.warranty_claim import (
    ApprovalStep,
    FraudFlag,
    Product,
    WarrantyClaim,
    WarrantyClaimInternal,
    WarrantyClaimStatus,
)
from conflict.records.work_order import Equipment, PartUsage, Task, TaskStatus, WorkOrder, WorkOrderStatus

__all__ = [
    "INSURANCE_CLAIM",
    "POLICY",
    "RECORD_TYPES",
    "WARRANTY_CLAIM",
    "WARRANTY_CLAIM_INTERNAL",
    "WORK_ORDER",
    "ApprovalStep",
    "Attachment",
    "Customer",
    "Entry",
    "Equipment",
    "FraudFlag",
    "InsuranceClaim",
    "InsuranceClaimStatus",
    "InsuranceProduct",
    "InvolvedParty",
    "Note",
    "PartUsage",
    "Payment",
    "PaymentFrequency",
    "PaymentStatus",
    "Policy",
    "PolicyStatus",
    "Priority",
    "Product",
    "Record",
    "RecordType",
    "Severity",
    "StatusChange",
    "Task",
    "TaskStatus",
    "WarrantyClaim",
    "WarrantyClaimInternal",
    "WarrantyClaimStatus",
    "WorkOrder",
    "WorkOrderStatus",
    "lookup_record_type",
    "record_type_for",
]
