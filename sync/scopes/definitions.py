"""Scope definitions: named, parameterised filters over record projections (``scopes.toml`` says how to write them).

``load_definitions`` reads and checks a file once at start (``ConfigError`` on any mistake). ``resolve``
binds one definition to a caller and the params a device sent, refusing what the caller may not follow;
the resulting ``ResolvedScope`` answers "is this projection a member?" and names the store queries that
find its members.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conflict import LIFECYCLES, RECORD_TYPES, Role, final_statuses, lifecycle_of
from sync.access import Principal
from sync.protocol.codes import ErrorCode
from sync.config_file import read_toml
from sync.errors import AuthError, ConfigError, ProtocolError
from sync.store.matches import Match

#: The file the hub reads when ``FIELDSYNC_SCOPES_FILE`` is not set.
DEFAULT_SCOPES_FILE = Path(__file__).with_name("scopes.toml")

PARAM_VALUE = re.compile(r"^[A-Za-z0-9._@-]{1,120}$")
_TEMPLATE = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_FROM_TOKEN = ("user", "team")
_ROLES = frozenset(Role)


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    from_token: str | None = None
    others: frozenset[str] = frozenset()
    required: bool = False


@dataclass(frozen=True, slots=True)
class ScopeDefinition:
    name: str
    description: str
    roles: frozenset[str]
    params: tuple[Param, ...]
    matches: tuple[Match, ...]


@dataclass(frozen=True, slots=True)
class ResolvedScope:
    """One definition bound to its params: what a subscription follows."""

    definition: ScopeDefinition
    params: Mapping[str, str]
    matches: tuple[Match, ...]

    @property
    def key(self) -> str:
        """``name(param=value,...)``: equal keys follow the same records."""
        inner = ",".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.definition.name}({inner})"

    @property
    def types(self) -> frozenset[str] | None:
        """The record types members can have; ``None`` for any."""
        kinds = {match.type for match in self.matches}
        return None if "*" in kinds else frozenset(kinds)

    def accepts(self, name: str, type: str, status: str | None, assignee: str | None, record: Mapping[str, Any]) -> bool:
        """Whether a record with this projection is a member."""
        return any(match.accepts(name, type, status, assignee, record) for match in self.matches)


class ScopeRegistry:
    """Every scope definition the hub serves, by name."""

    def __init__(self, definitions: Mapping[str, ScopeDefinition]) -> None:
        self.definitions = dict(definitions)

    def resolve(self, principal: Principal, scope: str, params: Mapping[str, str]) -> ResolvedScope:
        """Bind ``scope`` to ``params`` for ``principal``.

        Raises ``ProtocolError`` (``unknown_scope``, ``invalid_scope_params``) for a request that can never
        succeed, ``AuthError(forbidden)`` for one this caller may not make.
        """
        definition = self.definitions.get(scope)
        if definition is None:
            known = ", ".join(sorted(self.definitions))
            raise ProtocolError(ErrorCode.UNKNOWN_SCOPE, f"no scope named {scope[:80]!r} (known: {known})")
        if principal.roles.isdisjoint(definition.roles):
            raise AuthError(ErrorCode.FORBIDDEN, f"no role of this token may follow {scope}")
        names = {param.name for param in definition.params}
        unknown = sorted(set(params) - names)
        if unknown:
            raise ProtocolError(ErrorCode.INVALID_SCOPE_PARAMS, f"{scope} takes no param {unknown[0][:40]!r}")
        values = {param.name: _bind(principal, definition, param, params.get(param.name)) for param in definition.params}
        return ResolvedScope(definition, values, tuple(match.filled(values) for match in definition.matches))


def _bind(principal: Principal, definition: ScopeDefinition, param: Param, value: str | None) -> str:
    where = f"{definition.name} param {param.name!r}"
    if value is not None and not (isinstance(value, str) and PARAM_VALUE.match(value)):
        raise ProtocolError(ErrorCode.INVALID_SCOPE_PARAMS, f"{where} must be 1-120 letters, digits or . _ @ -")
    privileged = not principal.roles.isdisjoint(param.others)
    if param.from_token == "user":
        if value is None and param.required:
            raise ProtocolError(ErrorCode.INVALID_SCOPE_PARAMS, f"{where} is required")
        value = principal.user if value is None else value
        if value != principal.user and not privileged:
            raise AuthError(ErrorCode.FORBIDDEN, f"{where}: this token may only follow its own user's scope")
        return value
    if param.from_token == "team":
        if value is None:
            if len(principal.teams) != 1 or param.required:
                raise ProtocolError(ErrorCode.INVALID_SCOPE_PARAMS, f"{where} is required (the token names {len(principal.teams)} teams)")
            (value,) = principal.teams
        if value not in principal.teams and not privileged:
            raise AuthError(ErrorCode.FORBIDDEN, f"{where}: this token is not in team {value!r}")
        return value
    if value is None:
        raise ProtocolError(ErrorCode.INVALID_SCOPE_PARAMS, f"{where} is required")
    return value


# -- loading -------------------------------------------------------------------------------------------


def load_definitions(path: str | Path | None = None) -> ScopeRegistry:
    """Read and check a scopes file (``DEFAULT_SCOPES_FILE`` when ``path`` is None); ``ConfigError`` if invalid."""
    path = Path(path) if path is not None else DEFAULT_SCOPES_FILE
    return parse_definitions(read_toml(path, "scopes file"), source=f"scopes file {path}")


def parse_definitions(data: Mapping[str, Any], *, source: str = "scopes") -> ScopeRegistry:
    """Check already-parsed TOML (``{"scopes": {...}}``) and build the registry."""
    unknown = set(data) - {"scopes"}
    if unknown:
        raise ConfigError(f"{source}: unknown top-level key {sorted(unknown)[0]!r} (only [scopes.<name>] tables)")
    scopes = data.get("scopes")
    if not isinstance(scopes, dict) or not scopes:
        raise ConfigError(f"{source}: defines no scope ([scopes.<name>] tables)")
    return ScopeRegistry({name: _definition(name, body, f"{source}: scope {name!r}") for name, body in scopes.items()})


def _definition(name: str, body: Any, where: str) -> ScopeDefinition:
    if not re.match(r"^[a-z][a-z0-9_]{0,63}$", name):
        raise ConfigError(f"{where}: a scope name is lower-case letters, digits and _")
    if not isinstance(body, dict):
        raise ConfigError(f"{where}: must be a table")
    _only(body, {"description", "roles", "params", "match"}, where)
    roles = body.get("roles")
    if not isinstance(roles, list) or not roles or not all(isinstance(role, str) and role for role in roles):
        raise ConfigError(f"{where}: 'roles' must be a non-empty list of role names")
    _known_roles(roles, "roles", where)
    raw_params = body.get("params", {})
    if not isinstance(raw_params, dict):
        raise ConfigError(f"{where}: 'params' must be a table")
    params = tuple(_param(pname, pbody, f"{where} param {pname!r}") for pname, pbody in raw_params.items())
    raw_matches = body.get("match")
    if not isinstance(raw_matches, list) or not raw_matches:
        raise ConfigError(f"{where}: needs at least one [[scopes.{name}.match]]")
    names = {param.name for param in params}
    matches = tuple(_match(m, names, f"{where} match {i + 1}") for i, m in enumerate(raw_matches))
    description = body.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"{where}: 'description' must be a string")
    return ScopeDefinition(name, description, frozenset(roles), params, matches)


def _param(name: str, body: Any, where: str) -> Param:
    if not re.match(r"^[a-z][a-z0-9_]*$", name):
        raise ConfigError(f"{where}: a param name is lower-case letters, digits and _")
    if not isinstance(body, dict):
        raise ConfigError(f"{where}: must be a table")
    _only(body, {"from_token", "others", "required"}, where)
    source = body.get("from_token")
    if source is not None and source not in _FROM_TOKEN:
        raise ConfigError(f"{where}: 'from_token' must be one of {', '.join(_FROM_TOKEN)}")
    others = body.get("others", [])
    if not isinstance(others, list) or not all(isinstance(role, str) for role in others):
        raise ConfigError(f"{where}: 'others' must be a list of role names")
    _known_roles(others, "others", where)
    required = body.get("required", source is None)
    if not isinstance(required, bool):
        raise ConfigError(f"{where}: 'required' must be true or false")
    return Param(name, source, frozenset(others), required or source is None)


def _match(body: Any, params: set[str], where: str) -> Match:
    if not isinstance(body, dict):
        raise ConfigError(f"{where}: must be a table")
    _only(body, {"type", "status", "assignee", "id", "fields", "include_deleted"}, where)
    kind = body.get("type")
    if kind != "*" and kind not in RECORD_TYPES:
        raise ConfigError(f"{where}: 'type' must be \"*\" or one of {', '.join(sorted(RECORD_TYPES))}")
    fields = body.get("fields", {})
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise ConfigError(f"{where}: 'fields' must map field names to strings")
    for text in (body.get("assignee"), body.get("id"), *fields.values()):
        if text is not None and not isinstance(text, str):
            raise ConfigError(f"{where}: 'assignee' and 'id' must be strings")
        for used in _TEMPLATE.findall(text or ""):
            if used not in params:
                raise ConfigError(f"{where}: '{{{used}}}' names no param of this scope")
    include_deleted = body.get("include_deleted", False)
    if not isinstance(include_deleted, bool):
        raise ConfigError(f"{where}: 'include_deleted' must be true or false")
    return Match(kind, _statuses(kind, body.get("status"), where), body.get("assignee"), body.get("id"),
                 tuple(sorted(fields.items())), include_deleted)


def _statuses(kind: str, status: Any, where: str) -> frozenset[str] | None:
    if status is None:
        return None
    if status in ("open", "final"):
        if kind == "*":
            raise ConfigError(f"{where}: status {status!r} needs one record type, not \"*\"")
        return lifecycle_of(kind).open if status == "open" else final_statuses(kind)
    if isinstance(status, list) and status and all(isinstance(s, str) for s in status):
        lifecycles = LIFECYCLES.values() if kind == "*" else [lifecycle_of(kind)]
        known = {str(name) for lifecycle in lifecycles for name in lifecycle.statuses}
        unknown = sorted(set(status) - known)
        if unknown:
            of = "any record type" if kind == "*" else kind
            raise ConfigError(f"{where}: {unknown[0]!r} is not a status of {of} (statuses: {', '.join(sorted(known))})")
        return frozenset(status)
    raise ConfigError(f"{where}: 'status' must be \"open\", \"final\" or a list of statuses")


def _known_roles(roles: list[str], key: str, where: str) -> None:
    # A misspelt role would silently lock everyone out of the scope (or never let anyone choose a param).
    unknown = sorted(set(roles) - _ROLES)
    if unknown:
        raise ConfigError(f"{where}: '{key}' names unknown role {unknown[0]!r} (roles: {', '.join(sorted(_ROLES))})")


def _only(body: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
