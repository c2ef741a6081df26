"""JWT bearer tokens: verification into a ``Principal`` and minting for development and tests.

Accepted algorithms are those of the configured keys: HS256 with the shared secret, RS256 or ES256 with a
PEM public key, RS256 and ES256 with the keys of an identity provider's JWKS (looked up by the token's
``kid``). The token's header only selects among those, so ``none`` and key-confusion tricks are refused.
When an audience or an issuer is configured, a token must carry it in ``aud`` or ``iss``; when none is,
``aud`` is not checked (identity providers put one in every token).
A token is a credential: it never appears in an exception message or a log line, only the reason does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Sequence
from typing import Any

import jwt

from server.claims import ClaimError, ClaimNames, principal_from
from server.jwks import JWKS_ALGORITHMS, JwksKeys
from server.keys import check_hmac_secret, load_public_key
from sync import AuthError, ConfigError, ErrorCode, Principal

logger = logging.getLogger("fieldsync.auth")

#: Far above any real token; stops a client from making the hub parse megabytes of base64.
MAX_TOKEN_CHARS = 16 * 1024

#: PyJWT failures -> the reason a client is told (fixed strings, so nothing of the token can leak).
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.InvalidSignatureError, "token signature does not verify"),
    (jwt.ImmatureSignatureError, "token is not valid yet"),
    (jwt.InvalidAlgorithmError, "token algorithm is not accepted"),
    (jwt.InvalidAudienceError, "token 'aud' claim does not name this hub's audience"),
    (jwt.InvalidIssuerError, "token 'iss' claim is not this hub's issuer"),
    (jwt.DecodeError, "token is malformed"),
)


#: What to configure so that an algorithm has a key.
_KEY_HINTS = {
    "HS256": "set FIELDSYNC_JWT_SECRET",
    "RS256": "set FIELDSYNC_JWKS_URL, or FIELDSYNC_JWT_PUBLIC_KEY to an RSA key",
    "ES256": "set FIELDSYNC_JWKS_URL, or FIELDSYNC_JWT_PUBLIC_KEY to an EC key on P-256",
}


class JwtVerifier:
    """A ``TokenVerifier`` for JWTs carrying ``sub``, ``tenant``, ``device``, ``roles``, ``exp`` (and ``teams``),
    the middle four under the names ``claims`` gives them."""

    def __init__(
        self,
        *,
        secret: str | None = None,
        public_key: str | None = None,
        jwks: JwksKeys | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        algorithms: Collection[str] | None = None,
        claims: ClaimNames = ClaimNames(),
        leeway_seconds: float = 30,
    ) -> None:
        if public_key and jwks is not None:
            raise ConfigError("set FIELDSYNC_JWT_PUBLIC_KEY or FIELDSYNC_JWKS_URL, not both: the identity "
                              "provider's keys come from one place")
        if leeway_seconds < 0:
            raise ConfigError("leeway_seconds must not be negative")
        self._keys: dict[str, Any] = {}
        if secret:
            self._keys["HS256"] = check_hmac_secret(secret)
        if public_key:
            algorithm, key = load_public_key(public_key)
            self._keys[algorithm] = key
        self._jwks = jwks
        self._jwks_algorithms = JWKS_ALGORITHMS if jwks is not None else frozenset()
        if algorithms is not None:
            self._only(frozenset(algorithms))
        if not self.algorithms:
            raise ConfigError("no key verifies tokens: set FIELDSYNC_JWT_SECRET, FIELDSYNC_JWT_PUBLIC_KEY or "
                              "FIELDSYNC_JWKS_URL")
        self._claims = claims
        self._audience = audience or None
        self._issuer = issuer or None
        self._leeway = leeway_seconds

    def _only(self, allowed: frozenset[str]) -> None:
        """Accept only ``allowed`` (``FIELDSYNC_JWT_ALGORITHMS``), each of which some key must verify."""
        missing = sorted(allowed - self.algorithms)
        if missing:
            hint = _KEY_HINTS.get(missing[0], "it is not an algorithm this hub knows")
            raise ConfigError(f"FIELDSYNC_JWT_ALGORITHMS names {missing[0]}, but no key verifies it: {hint}")
        self._keys = {algorithm: key for algorithm, key in self._keys.items() if algorithm in allowed}
        self._jwks_algorithms &= allowed
        if self._jwks is not None and not self._jwks_algorithms:
            raise ConfigError("FIELDSYNC_JWT_ALGORITHMS accepts none of the algorithms of FIELDSYNC_JWKS_URL")

    @property
    def algorithms(self) -> frozenset[str]:
        """The algorithms this verifier accepts."""
        return frozenset(self._keys) | self._jwks_algorithms

    async def verify(self, token: str) -> Principal:
        """The principal behind ``token``; raises ``AuthError`` with a token code and a reason."""
        if not isinstance(token, str) or not token.strip():
            raise _refuse(ErrorCode.TOKEN_MISSING, "no token was sent")
        if len(token) > MAX_TOKEN_CHARS:
            raise _refuse(ErrorCode.TOKEN_INVALID, f"token is longer than {MAX_TOKEN_CHARS} characters")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise _refuse(ErrorCode.TOKEN_INVALID, "token is malformed") from None
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self.algorithms:
            accepted = ", ".join(sorted(self.algorithms))
            raise _refuse(ErrorCode.TOKEN_INVALID, f"token algorithm is not accepted (this hub accepts {accepted})")
        key = self._keys.get(algorithm)
        if key is None:
            key = await self._jwks_key(header.get("kid"), algorithm)
        try:
            return principal_from(self._decode(token, key, algorithm), self._claims)
        except ClaimError as exc:
            raise _refuse(ErrorCode.TOKEN_INVALID, str(exc)) from None

    async def _jwks_key(self, kid: Any, algorithm: str) -> jwt.PyJWK:
        assert self._jwks is not None, "only JWKS algorithms are left"
        if not isinstance(kid, str) or not kid:
            raise _refuse(ErrorCode.TOKEN_INVALID, "token has no 'kid' header naming its identity provider's key")
        key = await self._jwks.key(kid)
        if key is None:
            # Not the kid itself: it is part of the token, and tokens never reach messages.
            raise _refuse(ErrorCode.TOKEN_INVALID, "token 'kid' names no key of the identity provider's JWKS")
        if key.algorithm_name != algorithm:
            raise _refuse(ErrorCode.TOKEN_INVALID, f"token algorithm is not the one of its key ({key.algorithm_name})")
        return key

    def _decode(self, token: str, key: Any, algorithm: str) -> dict[str, Any]:
        required = [*self._claims.required, *(["aud"] if self._audience else []), *(["iss"] if self._issuer else [])]
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                # without a configured audience, an ``aud`` the token carries is not this hub's business
                options={"require": required, "verify_aud": self._audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise _refuse(ErrorCode.TOKEN_EXPIRED, "token has expired") from None
        except jwt.MissingRequiredClaimError as exc:
            raise _refuse(ErrorCode.TOKEN_INVALID, f"token lacks the {exc.claim!r} claim") from None
        except jwt.PyJWTError as exc:
            reason = next((text for kind, text in _REASONS if isinstance(exc, kind)), "token is invalid")
            raise _refuse(ErrorCode.TOKEN_INVALID, reason) from None


def _refuse(code: ErrorCode, reason: str) -> AuthError:
    logger.debug("token refused: %s: %s", code, reason)
    return AuthError(code, reason)


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
    audience: str | None = None,
    issuer: str | None = None,
    claims: ClaimNames = ClaimNames(),
) -> str:
    """An HS256 token for development and tests, valid for ``ttl_seconds`` from ``now`` (default: the clock),
    carrying ``aud`` and ``iss`` when given, under the claim names a hub configured with ``claims`` reads."""
    if isinstance(roles, str):
        raise TypeError("roles must be a sequence of role names, not one string")
    issued = int(time.time() if now is None else now)
    payload = {
        "sub": sub,
        claims.tenant: tenant,
        claims.device: device,
        claims.roles: list(roles),
        **({claims.teams: list(teams)} if teams else {}),
        **({"aud": audience} if audience else {}),
        **({"iss": issuer} if issuer else {}),
        "iat": issued,
        "exp": issued + int(ttl_seconds),
    }
    return jwt.encode(payload, secret, algorithm="HS256")
