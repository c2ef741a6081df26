"""A record's projection: the indexed columns and JSON body kept in the store for queries.

The typed columns come from the domain's projection (``conflict.project``): the status and the assignee
(the record type's own assignee field) only when they validate against the schema. The body keeps the
``record`` map exactly as merged (unknown fields included), adds the schema's list roots (folded to their
current entries) and text roots, the derived ``overdue``, and the validation ``problems``, if any. A text
root longer than ``text_limit`` characters is not copied on each update: the body names it under
``long_texts`` with its length instead (the document itself has it whole).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from pycrdt import Doc, Text

from conflict import DomainError, derived_fields, read_document, record_type_for
from conflict import project as domain_project
from sync.access import parse_name
from sync.store import Projection


#: Longest text root copied into a projection body by default (``HubConfig.projection_text_chars``).
TEXT_LIMIT = 65536


def project(
    tenant: str, name: str, doc: Doc, *, now: datetime | None = None, text_limit: int = TEXT_LIMIT
) -> Projection | None:
    """The projection of a main record document; None for companion documents (``…/internal``)."""
    parsed = parse_name(name)
    if parsed.part is not None:
        return None
    try:
        kind = record_type_for(name)
    except DomainError:
        kind = None
    at = now or datetime.now(UTC)
    content = read_document(doc, kind, text_limit=text_limit)
    fields = domain_project(name, content.record, content.lists, content.texts)
    body: dict[str, Any] = {"record": content.record}
    for root in (*content.lists, *content.texts):
        if root in fields.body:
            body[root] = fields.body[root]
    long_texts = {root: len(doc.get(root, type=Text)) for root in (kind.text_roots if kind else ()) if root not in content.texts}
    if long_texts:
        body["long_texts"] = long_texts
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
