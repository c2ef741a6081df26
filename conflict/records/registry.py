"""The record types: how each one is laid out in its document, and how its fields merge.

A document ``{type}:{id}`` holds a root ``Map`` named ``record`` with the scalar fields, one root ``Array``
per list field (``list_roots``), one root ``Text`` per long free-text field (``text_roots``), and the root
``Map`` ``clocks`` with the write stamps (``conflict.stamps``). A companion document ``{type}:{id}/{part}``
has a record type of its own, found under its parent's ``companions``.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import msgspec

from conflict.errors import UnknownRecordType
from conflict.names import parse_document_name
from conflict.policies import APPEND_ONLY, LAST_WRITER_WINS_HLC, ROLE_OWNED, FieldPolicy
from conflict.records.insurance_claim import InsuranceClaim
from conflict.records.policy import Policy
from conflict.records.warranty_claim import WarrantyClaim, WarrantyClaimInternal
from conflict.records.work_order import WorkOrder
from conflict.roles import Role

_EMPTY: Mapping[str, typing.Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True, eq=False)
class RecordType:
    """One kind of document: its schema, its roots and its merge rules (compared by identity)."""

    #: ``work_order``, or ``warranty_claim/internal`` for a companion.
    name: str
    #: The msgspec Struct a projection validates against; every field has a default.
    schema: type[msgspec.Struct]
    #: Root Arrays, in schema order; every concurrent append is kept.
    list_roots: tuple[str, ...] = ()
    #: Root Texts for long free text edited by several people.
    text_roots: tuple[str, ...] = ()
    #: The field the lifecycle governs (``None`` for companions).
    status_field: str | None = None
    #: The field naming the person the record is assigned to.
    assignee_field: str | None = None
    #: The field a record is overdue against while open.
    due_field: str | None = None
    #: Policies that differ from the defaults (scalars last-writer-wins by HLC, lists append-only).
    field_policies: Mapping[str, FieldPolicy] = field(default_factory=lambda: _EMPTY)
    #: Policies of fields inside list entries: root name -> entry field -> policy.
    entry_policies: Mapping[str, Mapping[str, FieldPolicy]] = field(default_factory=lambda: _EMPTY)
    #: Role-restricted companion documents, by part name.
    companions: Mapping[str, RecordType] = field(default_factory=lambda: _EMPTY)
    #: Roles that may open a document of this kind; ``None`` leaves it to the hub's general rule.
    readers: frozenset[str] | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field of the schema, in declaration order."""
        return self.schema.__struct_fields__

    @property
    def scalar_fields(self) -> tuple[str, ...]:
        """The fields stored in the ``record`` map."""
        roots = {*self.list_roots, *self.text_roots}
        return tuple(name for name in self.fields if name not in roots)

    def policy_for(self, field_name: str) -> FieldPolicy:
        """The merge policy of a scalar field or list root."""
        if field_name in self.field_policies:
            return self.field_policies[field_name]
        return APPEND_ONLY if field_name in self.list_roots else LAST_WRITER_WINS_HLC

    def entry_policy_for(self, root: str, entry_field: str) -> FieldPolicy:
        """The policy of one field inside the entries of list ``root``."""
        return self.entry_policies.get(root, _EMPTY).get(entry_field, LAST_WRITER_WINS_HLC)

    def entry_type(self, root: str) -> type[msgspec.Struct] | None:
        """The Struct of the entries of list ``root``, or ``None`` when ``root`` is not a list of Structs."""
        return _entry_type(self.schema, root) if root in self.list_roots else None


@functools.cache
def _entry_type(schema: type[msgspec.Struct], root: str) -> type[msgspec.Struct] | None:
    hint = typing.get_type_hints(schema).get(root)
    (item,) = typing.get_args(hint) or (None,)
    return item if isinstance(item, type) and issubclass(item, msgspec.Struct) else None


def _frozen(mapping: Mapping[str, typing.Any]) -> Mapping[str, typing.Any]:
    return MappingProxyType(dict(mapping))


_PAYMENT_STATUS_OWNED = _frozen({"payments": _frozen({"status": ROLE_OWNED(Role.CLAIMS_MANAGER, Role.ADMIN)})})

WORK_ORDER = RecordType(
    name="work_order",
    schema=WorkOrder,
    list_roots=("history", "tasks", "parts_used", "notes"),
    text_roots=("description",),
    status_field="status",
    assignee_field="technician",
    due_field="due_at",
)

WARRANTY_CLAIM_INTERNAL = RecordType(
    name="warranty_claim/internal",
    schema=WarrantyClaimInternal,
    list_roots=("internal_notes",),
    field_policies=_frozen({"fraud_suspected": ROLE_OWNED(Role.CLAIMS_MANAGER, Role.ADMIN)}),
    readers=frozenset(
        {Role.TECHNICIAN, Role.CLAIMS_AGENT, Role.ADJUSTER, Role.CLAIMS_MANAGER, Role.SUPERVISOR, Role.ADMIN}
    ),
)

WARRANTY_CLAIM = RecordType(
    name="warranty_claim",
    schema=WarrantyClaim,
    list_roots=("history", "notes", "documents", "approval_steps", "payments"),
    text_roots=("description",),
    status_field="status",
    assignee_field="assignee",
    entry_policies=_PAYMENT_STATUS_OWNED,
    companions=_frozen({"internal": WARRANTY_CLAIM_INTERNAL}),
)

POLICY = RecordType(
    name="policy",
    schema=Policy,
    list_roots=("history", "notes", "documents"),
    status_field="status",
    assignee_field="agent",
    field_policies=_frozen(
        {name: ROLE_OWNED(Role.AGENT, Role.ADMIN) for name in ("annual_premium", "coverage_amount", "deductible")}
    ),
)

INSURANCE_CLAIM = RecordType(
    name="insurance_claim",
    schema=InsuranceClaim,
    list_roots=("history", "involved_parties", "notes", "documents", "payments"),
    text_roots=("description",),
    status_field="status",
    assignee_field="adjuster",
    field_policies=_frozen({"adjuster": ROLE_OWNED(Role.CLAIMS_MANAGER, Role.ADMIN)}),
    entry_policies=_PAYMENT_STATUS_OWNED,
)

#: The four record types by name. Companions are reached through ``lookup_record_type("type/part")``.
RECORD_TYPES: Mapping[str, RecordType] = _frozen(
    {kind.name: kind for kind in (WORK_ORDER, WARRANTY_CLAIM, POLICY, INSURANCE_CLAIM)}
)


def lookup_record_type(kind: str) -> RecordType:
    """The record type named ``kind`` (``work_order``, ``warranty_claim/internal``); raises ``UnknownRecordType``."""
    base, _, part = kind.partition("/") if isinstance(kind, str) else ("", "", "")
    record_type = RECORD_TYPES.get(base)
    if record_type is not None and part:
        record_type = record_type.companions.get(part)
    if record_type is None:
        raise UnknownRecordType(f"unknown record type {str(kind)[:80]!r}")
    return record_type


def record_type_for(name: str) -> RecordType:
    """The record type of document ``name`` (``warranty_claim:WC-77/internal``)."""
    return lookup_record_type(parse_document_name(name).kind)
