"""What a principal may read over HTTP: the one place every REST route and report asks.

``readable`` is the whole rule. Today it is the role rule of ``/sync`` (``sync.scope_for``): a token whose
roles open documents of a record type may read every record of it. When per-record access rules judge
documents, this function calls them (``AccessRules.decide(principal, record_type, record).scope is not None``)
and every route follows, because none decides on its own. ``reads_every`` lets a report skip reading records
when the answer cannot depend on them; it must stay true only where ``readable`` ignores the record. Cached
answers are shared by principals with the same ``visibility_key``, which must cover whatever ``readable``
looks at in the token.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sync import AuthError, Principal, scope_for

__all__ = ["REVIEWER_ROLES", "may_review", "readable", "reads_every", "visibility_key"]

#: Roles that may settle a conflict; they must also be able to read its record.
REVIEWER_ROLES = frozenset({"claims_manager", "supervisor", "admin"})

# The role rule looks at the record type only; any well-formed id stands for every record of it.
_ANY_ID = "any"


def readable(principal: Principal, record_type: str, record: Mapping[str, Any] | None) -> bool:
    """Whether ``principal`` may read ``record`` (the record map) of ``record_type``."""
    return reads_every(principal, record_type)


def reads_every(principal: Principal, record_type: str) -> bool:
    """Whether ``principal`` may read every record of ``record_type``, whatever its fields."""
    try:
        scope_for(principal, f"{record_type}:{_ANY_ID}")
    except AuthError:
        return False
    return True


def visibility_key(principal: Principal) -> str:
    """Equal for two principals of a tenant exactly when ``readable`` cannot tell them apart: cached answers
    are shared under it. Everything ``readable`` may look at is in it (user, roles, teams)."""
    text = "\x00".join([principal.user, ",".join(sorted(principal.roles)), ",".join(sorted(principal.teams))])
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def may_review(principal: Principal, record_type: str, record: Mapping[str, Any] | None) -> bool:
    """Whether ``principal`` may resolve a conflict of ``record``: a reviewing role, and read access to it."""
    return bool(principal.roles & REVIEWER_ROLES) and readable(principal, record_type, record)
