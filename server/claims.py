"""Which token claims make a ``Principal``, and the checks on their shape.

``sub`` and ``exp`` are standard claims and keep their names. The others default to ``tenant``, ``device``,
``roles`` and ``teams``; an identity provider that can only add namespaced claims (``https://acme.example/roles``)
or that already names the device's session (``sid``) is met by renaming them (``FIELDSYNC_JWT_*_CLAIM``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sync import ConfigError, Principal

__all__ = ["ClaimError", "ClaimNames", "principal_from"]


@dataclass(frozen=True, slots=True)
class ClaimNames:
    """The claim each part of a principal is read from."""

    tenant: str = "tenant"
    """A non-empty string: the tenant whose documents the token reaches."""
    device: str = "device"
    """A non-empty string: the device, for per-device limits and the review queue."""
    roles: str = "roles"
    """A list of role names (``conflict.Role``); unknown ones grant nothing."""
    teams: str = "teams"
    """An optional list of team names, for team scopes and access rules."""

    def __post_init__(self) -> None:
        for part in ("tenant", "device", "roles", "teams"):
            name = getattr(self, part)
            if not isinstance(name, str) or not name.strip():
                raise ConfigError(f"FIELDSYNC_JWT_{part.upper()}_CLAIM must not be empty")
        names = [self.tenant, self.device, self.roles, self.teams]
        if len(set(names)) < len(names) or {"sub", "exp"} & set(names):
            raise ConfigError("the tenant, device, roles and teams claims must be four different claims, "
                              "none of them sub or exp")

    @property
    def required(self) -> tuple[str, ...]:
        """The claims every token must carry."""
        return ("sub", self.tenant, self.device, self.roles, "exp")


class ClaimError(ValueError):
    """A claim of the wrong shape; ``str()`` is the reason a client is told."""


def principal_from(claims: dict[str, Any], names: ClaimNames) -> Principal:
    """The principal the verified ``claims`` describe; raises ``ClaimError`` naming the claim of a wrong shape."""
    for claim in ("sub", names.tenant, names.device):
        value = claims[claim]
        if not isinstance(value, str) or not value:
            raise ClaimError(f"token claim {claim!r} must be a non-empty string")
    roles = claims[names.roles]
    if not _names(roles):
        raise ClaimError(f"token claim {names.roles!r} must be a list of non-empty strings")
    teams = claims.get(names.teams, [])
    if not _names(teams):
        raise ClaimError(f"token claim {names.teams!r} must be a list of non-empty strings")
    # the hub ends what a token authenticated when its exp passes, on open sockets too (no leeway there)
    return Principal(user=claims["sub"], tenant=claims[names.tenant], device=claims[names.device],
                     roles=frozenset(roles), teams=frozenset(teams), expires_at=float(claims["exp"]))


def _names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and item for item in value)
