from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from server.auth import JwtVerifier, mint_token
from server.claims import ClaimNames
from sync.access import Principal
from sync.protocol.codes import ErrorCode
from sync.errors import AuthError, ConfigError

SECRET = "test-secret-that-is-long-enough-for-hs256"
CLAIMS: dict[str, Any] = {"sub": "u-1", "tenant": "acme", "device": "tablet-7", "roles": ["technician", "viewer"]}
EXPECTED = Principal(user="u-1", tenant="acme", device="tablet-7", roles=frozenset({"technician", "viewer"}))


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def claims(**overrides: Any) -> dict[str, Any]:
    payload = {**CLAIMS, "exp": int(time.time()) + 600, **overrides}
    return {k: v for k, v in payload.items() if v is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def refused(verifier: JwtVerifier, token: str, code: ErrorCode) -> AuthError:
    with pytest.raises(AuthError) as info:
        await verifier.verify(token)
    assert info.value.code == code
    if token:
        assert token not in str(info.value)
        assert token not in info.value.reason
    return info.value


async def test_valid_hs256_token() -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    assert await JwtVerifier(secret=SECRET).verify(token) == EXPECTED


async def test_minted_token_verifies() -> None:
    token = mint_token(SECRET, sub="u-1", tenant="acme", device="tablet-7", roles=("technician", "viewer"))
    assert await JwtVerifier(secret=SECRET).verify(token) == EXPECTED
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert payload["exp"] - payload["iat"] == 3600


def test_mint_token_refuses_a_string_of_roles() -> None:
    with pytest.raises(TypeError):
        mint_token(SECRET, sub="u", tenant="t", device="d", roles="admin")


async def test_valid_rs256_token(rsa_key: rsa.RSAPrivateKey) -> None:
    token = jwt.encode(claims(), rsa_key, algorithm="RS256")
    assert await JwtVerifier(public_key=public_pem(rsa_key)).verify(token) == EXPECTED


async def test_both_algorithms_when_both_are_configured(rsa_key: rsa.RSAPrivateKey) -> None:
    verifier = JwtVerifier(secret=SECRET, public_key=public_pem(rsa_key))
    assert verifier.algorithms == {"HS256", "RS256"}
    assert await verifier.verify(jwt.encode(claims(), rsa_key, algorithm="RS256")) == EXPECTED
    assert await verifier.verify(jwt.encode(claims(), SECRET, algorithm="HS256")) == EXPECTED


async def test_expired_token() -> None:
    token = mint_token(SECRET, sub="u", tenant="t", device="d", roles=["viewer"], ttl_seconds=60,
                       now=time.time() - 3600)
    error = await refused(JwtVerifier(secret=SECRET), token, ErrorCode.TOKEN_EXPIRED)
    assert "expired" in error.reason


async def test_leeway_accepts_a_slightly_late_token() -> None:
    token = jwt.encode(claims(exp=int(time.time()) - 5), SECRET, algorithm="HS256")
    assert await JwtVerifier(secret=SECRET, leeway_seconds=30).verify(token) == EXPECTED
    await refused(JwtVerifier(secret=SECRET, leeway_seconds=0), token, ErrorCode.TOKEN_EXPIRED)


async def test_token_from_the_future_is_refused() -> None:
    token = jwt.encode(claims(nbf=int(time.time()) + 3600), SECRET, algorithm="HS256")
    assert "not valid yet" in (await refused(JwtVerifier(secret=SECRET), token, ErrorCode.TOKEN_INVALID)).reason


async def test_bad_signature() -> None:
    token = jwt.encode(claims(), "another-secret-that-is-long-enough-too", algorithm="HS256")
    error = await refused(JwtVerifier(secret=SECRET), token, ErrorCode.TOKEN_INVALID)
    assert "signature" in error.reason


async def test_rs256_signed_by_another_key(rsa_key: rsa.RSAPrivateKey) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), other, algorithm="RS256")
    await refused(JwtVerifier(public_key=public_pem(rsa_key)), token, ErrorCode.TOKEN_INVALID)


async def test_alg_none_is_refused() -> None:
    token = jwt.encode(claims(), None, algorithm="none")
    assert "algorithm" in (await refused(JwtVerifier(secret=SECRET), token, ErrorCode.TOKEN_INVALID)).reason
    unsigned = f"{b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{b64(json.dumps(claims()).encode())}."
    await refused(JwtVerifier(secret=SECRET), unsigned, ErrorCode.TOKEN_INVALID)


async def test_other_algorithms_are_refused() -> None:
    token = jwt.encode(claims(), SECRET * 2, algorithm="HS512")
    await refused(JwtVerifier(secret=SECRET), token, ErrorCode.TOKEN_INVALID)


async def test_hs256_refused_when_only_a_public_key_is_configured(rsa_key: rsa.RSAPrivateKey) -> None:
    # Key confusion: an HS256 token "signed" with the public key text must not pass.
    pem = public_pem(rsa_key)
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims()).encode())
    signature = b64(hmac.new(pem.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest())
    await refused(JwtVerifier(public_key=pem), f"{header}.{body}.{signature}", ErrorCode.TOKEN_INVALID)


async def test_rs256_refused_when_only_a_secret_is_configured(rsa_key: rsa.RSAPrivateKey) -> None:
    await refused(JwtVerifier(secret=SECRET), jwt.encode(claims(), rsa_key, algorithm="RS256"), ErrorCode.TOKEN_INVALID)


@pytest.mark.parametrize("claim", ["sub", "tenant", "device", "roles", "exp"])
async def test_missing_claim(claim: str) -> None:
    token = jwt.encode(claims(**{claim: None}), SECRET, algorithm="HS256")
    error = await refused(JwtVerifier(secret=SECRET), token, ErrorCode.TOKEN_INVALID)
    assert claim in error.reason


@pytest.mark.parametrize(
    "overrides",
    [
        {"roles": "technician"},
        {"roles": ["technician", 3]},
        {"roles": {"technician": True}},
        {"roles": [""]},
        {"tenant": ""},
        {"tenant": 42},
        {"sub": ""},
        {"device": ["d"]},
    ],
)
async def test_claims_of_the_wrong_shape(overrides: dict[str, Any]) -> None:
    token = jwt.encode(claims(**overrides), SECRET, algorithm="HS256")
    error = await refused(JwtVerifier(secret=SECRET), token, ErrorCode.TOKEN_INVALID)
    assert next(iter(overrides)) in error.reason


async def test_empty_roles_list_is_a_valid_token_that_grants_nothing() -> None:
    token = jwt.encode(claims(roles=[]), SECRET, algorithm="HS256")
    assert (await JwtVerifier(secret=SECRET).verify(token)).roles == frozenset()


@pytest.mark.parametrize("token", ["", "   "])
async def test_empty_token(token: str) -> None:
    await refused(JwtVerifier(secret=SECRET), token, ErrorCode.TOKEN_MISSING)


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30", "x" * 20000])
async def test_malformed_token(token: str) -> None:
    await refused(JwtVerifier(secret=SECRET), token, ErrorCode.TOKEN_INVALID)


async def test_token_never_reaches_messages_or_logs(caplog: pytest.LogCaptureFixture, rsa_key: rsa.RSAPrivateKey) -> None:
    verifier = JwtVerifier(secret=SECRET, public_key=public_pem(rsa_key))
    tokens = [
        jwt.encode(claims(), "wrong-secret-that-is-long-enough-as-well", algorithm="HS256"),
        jwt.encode(claims(exp=1), SECRET, algorithm="HS256"),
        jwt.encode(claims(roles="admin"), SECRET, algorithm="HS256"),
        jwt.encode(claims(tenant=None), SECRET, algorithm="HS256"),
        jwt.encode(claims(), None, algorithm="none"),
        jwt.encode(claims(), SECRET * 2, algorithm="HS384"),
        "garbage.token.value",
    ]
    with caplog.at_level(logging.DEBUG):
        for token in tokens:
            with pytest.raises(AuthError) as info:
                await verifier.verify(token)
            error = info.value
            # PyJWT's exception is not chained, so a logged traceback carries nothing from the token either.
            assert error.__cause__ is None
            assert error.__context__ is None or error.__suppress_context__
            for text in (str(error), repr(error), error.reason):
                assert token not in text
                # No part of the token either (its signature is the most sensitive piece).
                assert all(part not in text for part in token.split(".") if len(part) > 8)
    assert caplog.records, "refusals are logged at debug level"
    for token in tokens:
        assert token not in caplog.text
        assert all(part not in caplog.text for part in token.split(".") if len(part) > 8)


def test_verifier_needs_a_key() -> None:
    with pytest.raises(ConfigError, match="no key verifies tokens: set FIELDSYNC_JWT_SECRET"):
        JwtVerifier()


def test_verifier_refuses_bad_public_keys() -> None:
    with pytest.raises(ConfigError, match="PEM"):
        JwtVerifier(public_key="not a key")
    with pytest.raises(ConfigError, match="secp384r1; ES256 needs one on P-256"):
        JwtVerifier(public_key=public_pem(ec.generate_private_key(ec.SECP384R1())))
    with pytest.raises(ConfigError, match="must be an RSA key .RS256. or an EC key on P-256 .ES256."):
        JwtVerifier(public_key=public_pem(ed25519.Ed25519PrivateKey.generate()))


def test_verifier_refuses_a_pem_as_secret(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ConfigError, match="PEM"):
        JwtVerifier(secret=public_pem(rsa_key))


async def test_valid_es256_token_with_an_ec_public_key() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    verifier = JwtVerifier(public_key=public_pem(key))
    assert verifier.algorithms == {"ES256"}
    assert await verifier.verify(jwt.encode(claims(), key, algorithm="ES256")) == EXPECTED


async def test_es256_signed_by_another_key_and_rs256_against_an_ec_key(rsa_key: rsa.RSAPrivateKey) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    verifier = JwtVerifier(public_key=public_pem(key))
    other = jwt.encode(claims(), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")
    assert "signature" in (await refused(verifier, other, ErrorCode.TOKEN_INVALID)).reason
    rs256 = jwt.encode(claims(), rsa_key, algorithm="RS256")
    assert "accepts ES256" in (await refused(verifier, rs256, ErrorCode.TOKEN_INVALID)).reason


@pytest.mark.parametrize("aud", ["fieldsync", ["fieldsync", "other-api"], "someone-else"])
async def test_an_audience_is_not_checked_when_none_is_configured(aud: str | list[str]) -> None:
    token = jwt.encode(claims(aud=aud, iss="https://idp.example"), SECRET, algorithm="HS256")
    assert await JwtVerifier(secret=SECRET).verify(token) == EXPECTED


@pytest.mark.parametrize("aud", ["fieldsync", ["other-api", "fieldsync"]])
async def test_the_configured_audience_is_accepted(aud: str | list[str]) -> None:
    token = jwt.encode(claims(aud=aud), SECRET, algorithm="HS256")
    assert await JwtVerifier(secret=SECRET, audience="fieldsync").verify(token) == EXPECTED


@pytest.mark.parametrize(("aud", "reason"), [
    ("other-api", "'aud' claim does not name this hub's audience"),
    (["other-api", "more"], "'aud' claim does not name this hub's audience"),
    (None, "lacks the 'aud' claim"),
])
async def test_a_wrong_or_missing_audience_is_refused(aud: str | None, reason: str) -> None:
    token = jwt.encode(claims(aud=aud), SECRET, algorithm="HS256")
    error = await refused(JwtVerifier(secret=SECRET, audience="fieldsync"), token, ErrorCode.TOKEN_INVALID)
    assert reason in error.reason


async def test_the_configured_issuer_is_accepted() -> None:
    token = jwt.encode(claims(iss="https://idp.example/"), SECRET, algorithm="HS256")
    assert await JwtVerifier(secret=SECRET, issuer="https://idp.example/").verify(token) == EXPECTED


@pytest.mark.parametrize(("iss", "reason"), [
    ("https://evil.example/", "'iss' claim is not this hub's issuer"),
    ("https://idp.example", "'iss' claim is not this hub's issuer"),
    (None, "lacks the 'iss' claim"),
])
async def test_a_wrong_or_missing_issuer_is_refused(iss: str | None, reason: str) -> None:
    token = jwt.encode(claims(iss=iss, aud="fieldsync"), SECRET, algorithm="HS256")
    verifier = JwtVerifier(secret=SECRET, audience="fieldsync", issuer="https://idp.example/")
    assert reason in (await refused(verifier, token, ErrorCode.TOKEN_INVALID)).reason


async def test_configured_algorithms_leave_out_the_others(rsa_key: rsa.RSAPrivateKey) -> None:
    verifier = JwtVerifier(secret=SECRET, public_key=public_pem(rsa_key), algorithms=["RS256"])
    assert verifier.algorithms == {"RS256"}
    assert await verifier.verify(jwt.encode(claims(), rsa_key, algorithm="RS256")) == EXPECTED
    hs256 = jwt.encode(claims(), SECRET, algorithm="HS256")
    assert "(this hub accepts RS256)" in (await refused(verifier, hs256, ErrorCode.TOKEN_INVALID)).reason


@pytest.mark.parametrize(("algorithms", "hint"), [
    (["RS256"], "names RS256, but no key verifies it: set FIELDSYNC_JWKS_URL, or FIELDSYNC_JWT_PUBLIC_KEY to an RSA key"),
    (["HS256", "ES256"], "names ES256, but no key verifies it: set FIELDSYNC_JWKS_URL, or FIELDSYNC_JWT_PUBLIC_KEY to an EC key"),
])
def test_an_algorithm_without_a_key_is_a_config_error(algorithms: list[str], hint: str) -> None:
    with pytest.raises(ConfigError, match=f"^FIELDSYNC_JWT_ALGORITHMS {hint}"):
        JwtVerifier(secret=SECRET, algorithms=algorithms)


async def test_renamed_claims_are_read_and_named_in_refusals() -> None:
    names = ClaimNames(tenant="https://acme.example/tenant", device="sid", roles="https://acme.example/roles",
                       teams="https://acme.example/teams")
    verifier = JwtVerifier(secret=SECRET, claims=names)
    payload = claims(tenant=None, device=None, roles=None, sid="session-9", **{
        "https://acme.example/tenant": "acme", "https://acme.example/roles": ["viewer"],
        "https://acme.example/teams": ["north"]})
    principal = await verifier.verify(jwt.encode(payload, SECRET, algorithm="HS256"))
    assert (principal.tenant, principal.device, principal.roles, principal.teams) == (
        "acme", "session-9", {"viewer"}, {"north"})
    minted = mint_token(SECRET, sub="u-1", tenant="acme", device="session-9", roles=["viewer"], claims=names)
    assert await verifier.verify(minted) == Principal(user="u-1", tenant="acme", device="session-9",
                                                      roles=frozenset({"viewer"}))
    lacking = jwt.encode({**payload, "sid": None}, SECRET, algorithm="HS256")
    assert "lacks the 'sid' claim" in (await refused(verifier, lacking, ErrorCode.TOKEN_INVALID)).reason
    flat = jwt.encode({**payload, "https://acme.example/roles": "viewer"}, SECRET, algorithm="HS256")
    reason = (await refused(verifier, flat, ErrorCode.TOKEN_INVALID)).reason
    assert reason == "token claim 'https://acme.example/roles' must be a list of non-empty strings"


@pytest.mark.parametrize("names", [
    {"roles": "teams"}, {"device": "sub"}, {"tenant": "exp"}, {"teams": " "},
])
def test_claim_names_must_be_four_different_claims(names: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="must be four different claims|must not be empty"):
        ClaimNames(**names)
