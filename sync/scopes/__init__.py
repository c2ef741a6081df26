"""Sync scopes: the records a device follows as one unit, kept up to date as projections change."""

from sync.scopes.definitions import (
    DEFAULT_SCOPES_FILE, Match, Param, ResolvedScope, ScopeDefinition, ScopeRegistry, load_definitions,
    parse_definitions,
)

__all__ = [
    "DEFAULT_SCOPES_FILE", "Match", "Param", "ResolvedScope", "ScopeDefinition", "ScopeRegistry", "load_definitions",
    "parse_definitions",
]
