"""A record's projection: the indexed columns and JSON body kept in the store for queries.

The typed columns come from the domain's projection (``conflict.project``): the status and the assignee
(the record type's own assignee field) only when they validate against the schema. The body keeps the
``record`` map exactly as merged (unknown fields included), adds the schema's list roots (folded to their
current entries) and text roots, the derived ``overdue``, and the validation ``problems``, if any.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from pycrdt import Doc

from conflict import DomainError, derived_fields, read_document, record_type_for
from conflict import project as domain_project
from sync.access import parse_name
from sync.store import Projection


def project(tenant: str, name: str, doc: Doc, *, now: datetime | None = None) -> Projection | None:
    """The projection of a main record document; None for companion documents (``…/internal``)."""
    parsed = parse_name(name)
    if parsed.part is not None:
        return None
    try:
        kind = record_type_for(name)
    except DomainError:
        kind = None
    at = now or datetime.now(UTC)
    content = read_document(doc, kind)
    fields = domain_project(name, content.record, content.lists, content.texts)
    body: dict[str, Any] = {"record": content.record}
    for root in (*content.lists, *content.texts):
        if root in fields.body:
            body[root] = fields.body[root]
    body["overdue"] = derived_fields(fields, at).overdue
    if fields.problems:
        body["problems"] = msgspec.to_builtins(fields.problems)
    return Projection(
        tenant=tenant,
        name=name,
        type=parsed.record_type,
        status=fields.status,
        assignee=fields.assignee,
        updated_at=at,
        body=body,
    )
