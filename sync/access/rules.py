"""Access rules as data: which records a token reaches, and how, from the record's own fields.

The rules file (``rules.toml`` next to this module, or ``FIELDSYNC_ACCESS_FILE``) lists grants per record
type; ``AccessRules.decide`` evaluates them for one token and one record. Pure: no I/O once loaded, so the
same decision serves Auth, every write, scope membership and every later re-check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conflict import RECORD_TYPES, Role
from sync.access.principal import Principal, Scope
from sync.config_file import read_toml
from sync.errors import ConfigError

__all__ = ["DEFAULT_ACCESS_FILE", "NO_ACCESS", "Access", "AccessRules", "Condition", "Grant", "load_rules",
           "parse_rules"]

DEFAULT_ACCESS_FILE = Path(__file__).with_name("rules.toml")
_SOURCES = ("user", "team")
_ROLES = frozenset(Role)
_RANK = {None: 0, Scope.READONLY: 1, Scope.READ_WRITE: 2}


@dataclass(frozen=True, slots=True)
class Condition:
    """``record[path] == token.user`` (``source`` "user") or ``record[path] in token.teams`` ("team")."""

    path: tuple[str, ...]
    source: str

    def holds(self, principal: Principal, record: Mapping[str, Any]) -> bool:
        value: Any = record
        for part in self.path:
            if not isinstance(value, Mapping):
                return False
            value = value.get(part)
        if not isinstance(value, str) or not value:
            return False
        return value == principal.user if self.source == "user" else value in principal.teams


@dataclass(frozen=True, slots=True)
class Grant:
    """One ``[[<record type>]]`` table of the rules file."""

    record_type: str
    roles: frozenset[str]
    access: Scope
    when: tuple[Condition, ...] = ()
    write: frozenset[str] | None = None
    create: bool = False

    def for_token(self, principal: Principal) -> bool:
        return not self.roles.isdisjoint(principal.roles)

    def reaches(self, principal: Principal, record: Mapping[str, Any]) -> bool:
        return all(condition.holds(principal, record) for condition in self.when)


@dataclass(frozen=True, slots=True)
class Access:
    """What one token may do with one record."""

    scope: Scope | None
    """``None``: no access at all."""
    writable: frozenset[str] | None = None
    """Fields and lists a write may change; ``None``: every one."""
    create: bool = False
    """The record may be created by this token (it does not exist yet)."""

    def may_write(self, field: str) -> bool:
        return self.scope is Scope.READ_WRITE and (self.writable is None or field in self.writable)


NO_ACCESS = Access(None)


class AccessRules:
    """The grants of every record type."""

    def __init__(self, grants: Iterable[Grant]) -> None:
        self.grants: dict[str, tuple[Grant, ...]] = {}
        for grant in grants:
            self.grants[grant.record_type] = (*self.grants.get(grant.record_type, ()), grant)
        self.fields: dict[str, frozenset[str]] = {
            kind: frozenset(c.path[0] for g in grants for c in g.when) for kind, grants in self.grants.items()
        }
        """Per record type, the record fields any condition reads: a change of one may change who has access."""

    def decide(self, principal: Principal, record_type: str, record: Mapping[str, Any] | None) -> Access:
        """The access ``principal`` gets on a record of ``record_type`` holding ``record`` (``None``: not created)."""
        best: Scope | None = None
        writable: set[str] | None = set()
        create = False
        for grant in self.grants.get(record_type, ()):
            if not grant.for_token(principal):
                continue
            if record is None:  # nothing to read yet: the record may be created, or only waited for
                if not grant.create and grant.when:
                    continue
                scope = Scope.READ_WRITE if grant.create else grant.access
                create = create or grant.create
            elif grant.reaches(principal, record):
                scope = grant.access
            else:
                continue
            if _RANK[scope] > _RANK[best]:
                best = scope
            if scope is Scope.READ_WRITE and writable is not None:
                writable = None if grant.write is None or record is None else writable | grant.write
        if best is None:
            return NO_ACCESS
        return Access(best, None if writable is None else frozenset(writable), create)


# -- loading -------------------------------------------------------------------------------------------


def load_rules(path: str | Path | None = None) -> AccessRules:
    """Read and check an access rules file (``DEFAULT_ACCESS_FILE`` when None); ``ConfigError`` if invalid."""
    path = Path(path) if path is not None else DEFAULT_ACCESS_FILE
    return parse_rules(read_toml(path, "access rules file"), source=f"access rules file {path}")


def parse_rules(data: Mapping[str, Any], *, source: str = "access rules") -> AccessRules:
    """Check already-parsed TOML (``{"work_order": [{...}, ...], ...}``) and build the rules."""
    grants: list[Grant] = []
    for kind, tables in data.items():
        if kind not in RECORD_TYPES:
            raise ConfigError(f"{source}: {kind!r} is not a record type ({', '.join(sorted(RECORD_TYPES))})")
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise ConfigError(f"{source}: {kind} must be a list of [[{kind}]] tables")
        grants += [_grant(kind, table, f"{source}: [[{kind}]] {i + 1}") for i, table in enumerate(tables)]
    return AccessRules(grants)


def _grant(kind: str, body: dict[str, Any], where: str) -> Grant:
    unknown = set(body) - {"roles", "access", "when", "write", "create"}
    if unknown:
        raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    roles = body.get("roles")
    if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
        raise ConfigError(f"{where}: 'roles' must be a non-empty list of role names")
    if not set(roles) <= _ROLES:
        raise ConfigError(f"{where}: unknown role {sorted(set(roles) - _ROLES)[0]!r}")
    try:
        access = Scope(body.get("access"))
    except ValueError:
        raise ConfigError(f"{where}: 'access' must be \"read-write\" or \"readonly\"") from None
    when = body.get("when", {})
    if not isinstance(when, dict) or not all(isinstance(v, str) for v in when.values()):
        raise ConfigError(f"{where}: 'when' must be a table of field = \"user\" or \"team\"")
    conditions = []
    for path, source in when.items():
        if source not in _SOURCES:
            raise ConfigError(f"{where}: when.{path} must be \"user\" or \"team\", not {source!r}")
        conditions.append(Condition(tuple(path.split(".")), source))
    write = body.get("write")
    if write is not None and (not isinstance(write, list) or not all(isinstance(w, str) for w in write)):
        raise ConfigError(f"{where}: 'write' must be a list of field and list names")
    if write is not None and access is not Scope.READ_WRITE:
        raise ConfigError(f"{where}: 'write' needs access = \"read-write\"")
    create = body.get("create", False)
    if not isinstance(create, bool) or (create and access is not Scope.READ_WRITE):
        raise ConfigError(f"{where}: 'create' must be true or false, and true needs access = \"read-write\"")
    return Grant(kind, frozenset(roles), access, tuple(conditions), None if write is None else frozenset(write), create)
