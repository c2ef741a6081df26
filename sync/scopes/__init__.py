"""Sync scopes: the records a device follows as one unit, kept up to date as projections change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sync.scopes.definitions import (
    DEFAULT_SCOPES_FILE, Match, Param, ResolvedScope, ScopeDefinition, ScopeRegistry, load_definitions,
    parse_definitions,
)

if TYPE_CHECKING:
    from sync.scopes.service import ScopeService
    from sync.scopes.subscription import Subscription

__all__ = [
    "DEFAULT_SCOPES_FILE", "Match", "Param", "ResolvedScope", "ScopeDefinition", "ScopeRegistry",
    "ScopeService", "Subscription", "load_definitions", "parse_definitions",
]

# The service needs the store and the protocol; the definitions alone (what the server's settings and the
# command line use) need neither, so the rest is imported only when first asked for.
_LAZY = {
    "ScopeService": "sync.scopes.service", "Subscription": "sync.scopes.subscription",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sync.scopes' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module), name)
