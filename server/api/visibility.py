"""What a principal may read over HTTP: the one place every REST route and report asks.

``readable`` is the whole rule: the hub's access rules (``sync/access/rules.toml``, or the deployment's
``FIELDSYNC_ACCESS_FILE``), the same ones that judge ``/sync``, after the role gate by record type
(``sync.scope_for``). ``use_rules`` gives them to this module when the app is built. ``reads_every`` lets a
report skip reading records when the answer cannot depend on them: true only where a grant without conditions
applies. Cached answers are shared by principals with the same ``visibility_key``, which covers whatever
``readable`` looks at in the token.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sync import AccessRules, AuthError, Principal, load_rules, scope_for

__all__ = ["REVIEWER_ROLES", "may_review", "readable", "reads_every", "use_rules", "visibility_key"]

#: Roles that may settle a conflict; they must also be able to read its record.
REVIEWER_ROLES = frozenset({"claims_manager", "supervisor", "admin"})

# The role rule looks at the record type only; any well-formed id stands for every record of it.
_ANY_ID = "any"


_rules: list[AccessRules] = []


def use_rules(rules: AccessRules) -> None:
    """The access rules every HTTP read follows (the hub's own)."""
    _rules[:] = [rules]


def _current() -> AccessRules:
    if not _rules:
        _rules.append(load_rules())
    return _rules[0]


def _type_allowed(principal: Principal, record_type: str) -> bool:
    try:
        scope_for(principal, f"{record_type}:{_ANY_ID}")
    except AuthError:
        return False
    return True


def readable(principal: Principal, record_type: str, record: Mapping[str, Any] | None) -> bool:
    """Whether ``principal`` may read ``record`` (the record map) of ``record_type``."""
    return _type_allowed(principal, record_type) and _current().decide(
        principal, record_type, dict(record or {})).scope is not None


def reads_every(principal: Principal, record_type: str) -> bool:
    """Whether ``principal`` may read every record of ``record_type``, whatever its fields."""
    return _type_allowed(principal, record_type) and any(
        grant.for_token(principal) and not grant.when for grant in _current().grants.get(record_type, ()))


def visibility_key(principal: Principal) -> str:
    """Equal for two principals of a tenant exactly when ``readable`` cannot tell them apart: cached answers
    are shared under it. Everything ``readable`` may look at is in it (user, roles, teams)."""
    text = "\x00".join([principal.user, ",".join(sorted(principal.roles)), ",".join(sorted(principal.teams))])
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def may_review(principal: Principal, record_type: str, record: Mapping[str, Any] | None) -> bool:
    """Whether ``principal`` may resolve a conflict of ``record``: a reviewing role, and read access to it."""
    return bool(principal.roles & REVIEWER_ROLES) and readable(principal, record_type, record)
