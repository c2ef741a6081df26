"""Access: who is calling, and which records (and fields) they reach, from the rules file and the record."""

from __future__ import annotations

from sync.access.principal import (
    READONLY_ROLES, WRITER_ROLES, Principal, Scope, TokenVerifier, parse_name, role_scope, scope_for,
)
from sync.access.rules import (
    DEFAULT_ACCESS_FILE, NO_ACCESS, Access, AccessRules, Condition, Grant, load_rules, parse_rules,
)

__all__ = [
    "DEFAULT_ACCESS_FILE", "NO_ACCESS", "READONLY_ROLES", "WRITER_ROLES", "Access", "AccessRules", "Condition", "Grant",
    "Principal", "Scope", "TokenVerifier", "load_rules", "parse_name", "parse_rules", "role_scope", "scope_for",
]
