"""Static verification keys: the HS256 secret and a PEM public key (RSA for RS256, P-256 for ES256).

Each key is bound to the one algorithm it verifies, so a token's header can only choose among configured
algorithms, never make one key verify under another algorithm (the classic RS256/HS256 confusion).
"""

from __future__ import annotations

from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.algorithms import HMACAlgorithm

from sync import ConfigError

__all__ = ["check_hmac_secret", "load_public_key"]


def check_hmac_secret(secret: str) -> str:
    """``secret``, once it is known not to be a PEM key."""
    try:
        HMACAlgorithm(HMACAlgorithm.SHA256).prepare_key(secret)
    except jwt.InvalidKeyError:
        # PyJWT refuses a PEM key as an HMAC secret, which would otherwise let a public key sign tokens.
        raise ConfigError("the JWT secret looks like a PEM key; set FIELDSYNC_JWT_PUBLIC_KEY for RS256 or ES256") from None
    return secret


def load_public_key(pem: str) -> tuple[str, Any]:
    """The algorithm a PEM public key verifies (``RS256`` or ``ES256``) and the loaded key."""
    try:
        key = load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise ConfigError(f"the JWT public key is not a PEM public key: {exc}") from None
    if isinstance(key, RSAPublicKey):
        return "RS256", key
    if isinstance(key, EllipticCurvePublicKey) and isinstance(key.curve, SECP256R1):
        return "ES256", key
    if isinstance(key, EllipticCurvePublicKey):
        raise ConfigError(f"the JWT public key is an EC key on {key.curve.name}; ES256 needs one on P-256 (secp256r1)")
    raise ConfigError("the JWT public key must be an RSA key (RS256) or an EC key on P-256 (ES256)")
