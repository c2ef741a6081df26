"""Who is calling: the verified principal, the roles, and the document-level gate by record type.

The hub never parses tokens itself: the server hands it a ``TokenVerifier`` (JWT in ``server.auth``).
Tenancy is structural: every document is addressed by (tenant, name) and the tenant always comes from
the verified token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from conflict import DocumentName, DomainError, InvalidDocumentName, Role, parse_document_name, record_type_for
from sync.protocol.codes import ErrorCode
from sync.protocol.errors import AuthError

#: Roles that only read. Every other known role (``conflict.Role``) may write; unknown roles grant nothing.
READONLY_ROLES = frozenset({Role.VIEWER.value})
WRITER_ROLES = frozenset(role.value for role in Role) - READONLY_ROLES


class Scope(StrEnum):
    """The access a document grants to one connection, as sent in ``Auth/Authenticated``."""

    READ_WRITE = "read-write"
    READONLY = "readonly"


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified identity behind a token."""

    user: str
    tenant: str
    device: str
    roles: frozenset[str]
    teams: frozenset[str] = frozenset()
    """Teams the user works in (the optional ``teams`` claim), for team scopes and access rules."""
    expires_at: float | None = field(default=None, compare=False)
    """Not part of the identity: the token's ``exp`` (seconds since the epoch): what it authenticated ends then, also on an open socket."""


class TokenVerifier(Protocol):
    """Turns a bearer token into a ``Principal`` or raises ``AuthError``.

    Awaitable because a verifier may have to fetch keys (an identity provider's JWKS after a key rotation);
    it must do such I/O off the event loop, and answer at once when no I/O is needed.
    """

    async def verify(self, token: str) -> Principal: ...


def parse_name(name: str) -> DocumentName:
    """The parsed document ``name``; ``AuthError(invalid_document_name)`` when it is not ``<type>:<id>``."""
    try:
        return parse_document_name(name)
    except InvalidDocumentName:
        raise AuthError(ErrorCode.INVALID_DOCUMENT_NAME, f"document name {name[:80]!r} is not '<type>:<id>'") from None


def scope_for(principal: Principal, name: str) -> Scope:
    """The scope ``principal`` gets on document ``name``; raises ``AuthError`` when it gets none.

    The document must be of a record type the domain defines (``conflict.record_type_for``). A record type
    that names its ``readers`` (role-restricted companions such as ``warranty_claim:WC-77/internal``) is
    refused to every other role, whatever it may do elsewhere.
    """
    parse_name(name)
    try:
        kind = record_type_for(name)
    except DomainError as exc:
        raise AuthError(ErrorCode.UNKNOWN_RECORD_TYPE, str(exc)) from None
    if kind.readers is not None and principal.roles.isdisjoint(kind.readers):
        raise AuthError(ErrorCode.FORBIDDEN, f"no role of this token may open {kind.name} documents")
    return role_scope(principal)


def role_scope(principal: Principal) -> Scope:
    """The scope the token's roles grant on any document they may open (and on control documents)."""
    if principal.roles & WRITER_ROLES:
        return Scope.READ_WRITE
    if principal.roles & READONLY_ROLES:
        return Scope.READONLY
    raise AuthError(ErrorCode.FORBIDDEN, "no role of this token grants access to documents")
