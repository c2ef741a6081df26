"""Document names: ``{type}:{id}`` with an optional ``/{part}`` for role-restricted companions."""

from __future__ import annotations

import re

import msgspec

from conflict.errors import InvalidDocumentName

# The same grammar as the hub's access rules, so any name the hub accepts parses here.
_NAME = re.compile(
    r"(?P<type>[a-z][a-z0-9_]{0,39}):(?P<id>[A-Za-z0-9][A-Za-z0-9._-]{0,119})(?:/(?P<part>[a-z][a-z0-9_]{0,39}))?"
)


class DocumentName(msgspec.Struct, frozen=True):
    """A parsed document name: ``warranty_claim:WC-77/internal`` is (warranty_claim, WC-77, internal)."""

    record_type: str
    record_id: str
    part: str | None = None

    @property
    def kind(self) -> str:
        """The registry key of the document's schema: the type, or ``type/part`` for a companion."""
        return self.record_type if self.part is None else f"{self.record_type}/{self.part}"

    def __str__(self) -> str:
        base = f"{self.record_type}:{self.record_id}"
        return base if self.part is None else f"{base}/{self.part}"


def parse_document_name(name: str) -> DocumentName:
    """Parse ``name``; raises ``InvalidDocumentName`` when it does not follow the grammar."""
    match = _NAME.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        raise InvalidDocumentName(f"document name {str(name)[:80]!r} is not '<type>:<id>[/<part>]'")
    return DocumentName(match["type"], match["id"], match["part"])
