"""The roles a token may carry (claim ``roles``). Unknown role strings grant nothing."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    """Every role the domain's rules refer to."""

    TECHNICIAN = "technician"
    CLAIMS_AGENT = "claims_agent"
    ADJUSTER = "adjuster"
    CLAIMS_MANAGER = "claims_manager"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    CUSTOMER = "customer"
    VIEWER = "viewer"
    ADMIN = "admin"


def known_roles(roles: Iterable[str]) -> frozenset[Role]:
    """The known roles among ``roles``; anything else (a typo, a newer role) is dropped."""
    known: set[Role] = set()
    for role in roles:
        try:
            known.add(Role(role))
        except ValueError:
            continue
    return frozenset(known)
