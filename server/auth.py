"""JWT bearer tokens: verification into a ``Principal`` and minting for development and tests.

Accepted algorithms are HS256 (with the shared secret) and RS256 (with the public key), whichever are
configured; the token's header only selects among those, so ``none`` and key-confusion tricks are refused.
A token is a credential: it never appears in an exception message or a log line, only the reason does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.algorithms import HMACAlgorithm

from sync import AuthError, ConfigError, ErrorCode, Principal

logger = logging.getLogger("fieldsync.auth")

REQUIRED_CLAIMS = ("sub", "tenant", "device", "roles", "exp")
#: Far above any real token; stops a client from making the hub parse megabytes of base64.
MAX_TOKEN_CHARS = 16 * 1024

#: PyJWT failures -> the reason a client is told (fixed strings, so nothing of the token can leak).
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.InvalidSignatureError, "token signature does not verify"),
    (jwt.ImmatureSignatureError, "token is not valid yet"),
    (jwt.InvalidAlgorithmError, "token algorithm is not accepted"),
    (jwt.InvalidAudienceError, "token audience is not accepted"),
    (jwt.DecodeError, "token is malformed"),
)


class JwtVerifier:
    """A ``TokenVerifier`` for HS256 and RS256 JWTs carrying ``sub``, ``tenant``, ``device``, ``roles``, ``exp``."""

    def __init__(self, *, secret: str | None = None, public_key: str | None = None, leeway_seconds: float = 30) -> None:
        if not secret and not public_key:
            raise ConfigError("a token verifier needs a JWT secret or a public key")
        if leeway_seconds < 0:
            raise ConfigError("leeway_seconds must not be negative")
        self._keys: dict[str, Any] = {}
        if secret:
            self._keys["HS256"] = _check_hmac_secret(secret)
        if public_key:
            self._keys["RS256"] = _load_rsa_public_key(public_key)
        self._leeway = leeway_seconds

    @property
    def algorithms(self) -> frozenset[str]:
        """The algorithms this verifier accepts."""
        return frozenset(self._keys)

    async def verify(self, token: str) -> Principal:
        """The principal behind ``token``; raises ``AuthError`` with a token code and a reason."""
        if not isinstance(token, str) or not token.strip():
            raise _refuse(ErrorCode.TOKEN_MISSING, "no token was sent")
        if len(token) > MAX_TOKEN_CHARS:
            raise _refuse(ErrorCode.TOKEN_INVALID, f"token is longer than {MAX_TOKEN_CHARS} characters")
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.InvalidTokenError:
            raise _refuse(ErrorCode.TOKEN_INVALID, "token is malformed") from None
        key = self._keys.get(algorithm) if isinstance(algorithm, str) else None
        if key is None:
            accepted = ", ".join(sorted(self._keys))
            raise _refuse(ErrorCode.TOKEN_INVALID, f"token algorithm is not accepted (this hub accepts {accepted})")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                leeway=self._leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError:
            raise _refuse(ErrorCode.TOKEN_EXPIRED, "token has expired") from None
        except jwt.MissingRequiredClaimError as exc:
            raise _refuse(ErrorCode.TOKEN_INVALID, f"token lacks the {exc.claim!r} claim") from None
        except jwt.PyJWTError as exc:
            reason = next((text for kind, text in _REASONS if isinstance(exc, kind)), "token is invalid")
            raise _refuse(ErrorCode.TOKEN_INVALID, reason) from None
        return _principal(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    for claim in ("sub", "tenant", "device"):
        value = claims[claim]
        if not isinstance(value, str) or not value:
            raise _refuse(ErrorCode.TOKEN_INVALID, f"token claim {claim!r} must be a non-empty string")
    roles = claims["roles"]
    if not isinstance(roles, list) or not all(isinstance(role, str) and role for role in roles):
        raise _refuse(ErrorCode.TOKEN_INVALID, "token claim 'roles' must be a list of non-empty strings")
    teams = claims.get("teams", [])
    if not isinstance(teams, list) or not all(isinstance(team, str) and team for team in teams):
        raise _refuse(ErrorCode.TOKEN_INVALID, "token claim 'teams' must be a list of non-empty strings")
    # the hub ends what a token authenticated when its exp passes, on open sockets too (no leeway there)
    return Principal(user=claims["sub"], tenant=claims["tenant"], device=claims["device"], roles=frozenset(roles),
                     teams=frozenset(teams), expires_at=float(claims["exp"]))


def _refuse(code: ErrorCode, reason: str) -> AuthError:
    logger.debug("token refused: %s: %s", code, reason)
    return AuthError(code, reason)


def _check_hmac_secret(secret: str) -> str:
    try:
        HMACAlgorithm(HMACAlgorithm.SHA256).prepare_key(secret)
    except jwt.InvalidKeyError:
        # PyJWT refuses a PEM key as an HMAC secret, which would otherwise let a public key sign tokens.
        raise ConfigError("the JWT secret looks like a PEM key; set FIELDSYNC_JWT_PUBLIC_KEY for RS256") from None
    return secret


def _load_rsa_public_key(pem: str) -> RSAPublicKey:
    try:
        key = load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise ConfigError(f"the JWT public key is not a PEM public key: {exc}") from None
    if not isinstance(key, RSAPublicKey):
        raise ConfigError("the JWT public key must be an RSA key (tokens are verified with RS256)")
    return key


def mint_token(
    secret: str,
    *,
    sub: str,
    tenant: str,
    device: str,
    roles: Sequence[str],
    teams: Sequence[str] = (),
    ttl_seconds: int = 3600,
    now: float | None = None,
) -> str:
    """An HS256 token for development and tests, valid for ``ttl_seconds`` from ``now`` (default: the clock)."""
    if isinstance(roles, str):
        raise TypeError("roles must be a sequence of role names, not one string")
    issued = int(time.time() if now is None else now)
    payload = {
        "sub": sub,
        "tenant": tenant,
        "device": device,
        "roles": list(roles),
        **({"teams": list(teams)} if teams else {}),
        "iat": issued,
        "exp": issued + int(ttl_seconds),
    }
    return jwt.encode(payload, secret, algorithm="HS256")
