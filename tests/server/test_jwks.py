"""Tokens verified with an identity provider's keys, fetched from a JWKS document served over real HTTP."""

from __future__ import annotations

import asyncio
import logging
import re

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from server.auth import JwtVerifier
from server.jwks import JwksKeys, JwksUnavailable
from sync.access import Principal
from sync.errors import AuthError, ConfigError
from sync.protocol.codes import ErrorCode
from tests.support.hub import free_port
from tests.support.idp import AUDIENCE, ISSUER, IdentityProvider, SigningKey

EXPECTED = Principal(user="u1", tenant="acme", device="d1", roles=frozenset({"technician"}))
RSA_KEY = SigningKey.new("rsa-1", "RS256")
EC_KEY = SigningKey.new("ec-1", "ES256")


class Clock:
    """Time the test moves by hand, for the key set's age and the refetch limit."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def verifier(url: str, **timings: float) -> JwtVerifier:
    return JwtVerifier(jwks=JwksKeys(url, **timings), audience=AUDIENCE, issuer=ISSUER)


async def refused(verifier: JwtVerifier, token: str) -> str:
    with pytest.raises(AuthError) as info:
        await verifier.verify(token)
    assert info.value.code == ErrorCode.TOKEN_INVALID
    return info.value.reason


@pytest.mark.parametrize("key", [RSA_KEY, EC_KEY], ids=["RS256", "ES256"])
async def test_a_token_signed_with_a_published_key_is_accepted(key: SigningKey) -> None:
    with IdentityProvider(RSA_KEY, EC_KEY).serve() as idp:
        hub = verifier(idp.url)
        assert hub.algorithms == {"RS256", "ES256"}
        assert await hub.verify(idp.token(key)) == EXPECTED
        assert (await hub.verify(idp.token(key, sub="u2"))).user == "u2"
        assert idp.requests == 1, "the key set is cached"


async def test_audience_and_issuer_are_checked_on_jwks_tokens() -> None:
    with IdentityProvider(RSA_KEY).serve() as idp:
        hub = verifier(idp.url)
        assert "'aud' claim does not name" in await refused(hub, idp.token(RSA_KEY, aud="other-api"))
        assert "lacks the 'aud' claim" in await refused(hub, idp.token(RSA_KEY, aud=None))
        assert "'iss' claim is not this hub's issuer" in await refused(hub, idp.token(RSA_KEY, iss="https://evil/"))
        assert "lacks the 'iss' claim" in await refused(hub, idp.token(RSA_KEY, iss=None))


async def test_a_rotated_key_is_fetched_on_its_first_token_without_a_restart() -> None:
    with IdentityProvider(RSA_KEY).serve() as idp:
        hub = verifier(idp.url, min_refetch_seconds=0)
        assert await hub.verify(idp.token(RSA_KEY)) == EXPECTED
        rotated = SigningKey.new("rsa-2", "RS256")
        idp.rotate(rotated, keep=False)
        assert await hub.verify(idp.token(rotated)) == EXPECTED
        assert idp.requests == 2


async def test_a_withdrawn_key_stops_verifying_once_the_key_set_is_old() -> None:
    clock = Clock()
    with IdentityProvider(RSA_KEY).serve() as idp:
        hub = verifier(idp.url, max_age_seconds=300, clock=clock)
        assert await hub.verify(idp.token(RSA_KEY)) == EXPECTED
        idp.rotate(EC_KEY, keep=False)
        clock.now += 299
        assert await hub.verify(idp.token(RSA_KEY)) == EXPECTED, "a young key set is not fetched again"
        clock.now += 1
        assert "names no key" in await refused(hub, idp.token(RSA_KEY))
        assert await hub.verify(idp.token(EC_KEY)) == EXPECTED
        assert idp.requests == 2


async def test_a_flood_of_unknown_kids_fetches_at_most_once_per_interval() -> None:
    clock = Clock()
    with IdentityProvider(RSA_KEY).serve() as idp:
        hub = verifier(idp.url, min_refetch_seconds=5, clock=clock)
        assert await hub.verify(idp.token(RSA_KEY)) == EXPECTED
        forged = [idp.token(SigningKey(f"made-up-{n}", "RS256", RSA_KEY.private)) for n in range(200)]
        reasons = await asyncio.gather(*(refused(hub, token) for token in forged))
        assert set(reasons) == {"token 'kid' names no key of the identity provider's JWKS"}
        assert idp.requests == 1, "the first fetch started the interval"
        clock.now += 5
        await asyncio.gather(*(refused(hub, token) for token in forged))
        assert idp.requests == 2, "one fetch per interval, shared by every waiting token"
        assert await hub.verify(idp.token(RSA_KEY)) == EXPECTED


async def test_concurrent_tokens_of_a_new_key_share_one_fetch() -> None:
    with IdentityProvider(RSA_KEY).serve() as idp:
        hub = verifier(idp.url, min_refetch_seconds=0)
        assert await hub.verify(idp.token(RSA_KEY)) == EXPECTED
        idp.rotate(EC_KEY)
        idp.delay = 0.2
        principals = await asyncio.gather(*(hub.verify(idp.token(EC_KEY)) for _ in range(50)))
        assert set(principals) == {EXPECTED}
        assert idp.requests == 2


async def test_a_fetch_does_not_block_the_event_loop() -> None:
    with IdentityProvider(RSA_KEY).serve() as idp:
        idp.delay = 1.0
        hub = verifier(idp.url)
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        try:
            assert await hub.verify(idp.token(RSA_KEY)) == EXPECTED
        finally:
            ticker.cancel()
        assert ticks > 30, "the loop went on serving while the key set was fetched"


async def test_an_identity_provider_that_goes_down_keeps_the_keys_known(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    port = free_port()
    with IdentityProvider(RSA_KEY).serve(port) as idp:
        hub = verifier(idp.url, max_age_seconds=300, clock=clock)
        assert await hub.verify(idp.token(RSA_KEY)) == EXPECTED
        token = idp.token(RSA_KEY)
    clock.now += 600
    with caplog.at_level(logging.WARNING, "fieldsync.auth"):
        assert await hub.verify(token) == EXPECTED
    assert "cannot refresh the JWKS" in caplog.text and "keeping the 1 key(s) fetched before" in caplog.text
    assert token not in caplog.text


async def test_an_identity_provider_that_comes_later_is_used_once_it_answers() -> None:
    clock = Clock()
    port = free_port()
    idp = IdentityProvider(RSA_KEY)
    keys = JwksKeys(f"http://127.0.0.1:{port}/.well-known/jwks.json", min_refetch_seconds=5, clock=clock)
    with pytest.raises(JwksUnavailable, match="no answer .*Connection refused"):
        keys.refresh()
    hub = JwtVerifier(jwks=keys, audience=AUDIENCE, issuer=ISSUER)
    with idp.serve(port):
        assert "names no key" in await refused(hub, idp.token(RSA_KEY)), "within the interval: no fetch"
        assert idp.requests == 0
        clock.now += 5
        assert await hub.verify(idp.token(RSA_KEY)) == EXPECTED


@pytest.mark.parametrize(("status", "body", "says"), [
    (200, b"<html>login</html>", "not a JWKS document (the answer is not JSON)"),
    (200, b"[1, 2]", "not a usable JWKS document"),
    (200, b'{"keys": []}', "not a usable JWKS document"),
    (200, b'{"issuer": "https://idp.test/"}', "not a usable JWKS document"),
    (200, b'{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}]}', "no RS256 or ES256 signing key"),
    (404, b"not here", "HTTP Error 404"),
    (500, b"oops", "HTTP Error 500"),
])
async def test_a_bad_answer_is_reported_and_no_key_is_trusted(status: int, body: bytes, says: str) -> None:
    with IdentityProvider(RSA_KEY).serve() as idp:
        idp.status, idp.body = status, body
        keys = JwksKeys(idp.url)
        with pytest.raises(JwksUnavailable, match=re.escape(says)):
            keys.refresh()
        assert keys.key_ids == frozenset()


async def test_tokens_that_do_not_fit_the_jwks_are_refused() -> None:
    with IdentityProvider(RSA_KEY, EC_KEY).serve() as idp:
        hub = verifier(idp.url)
        no_kid = jwt.encode({"sub": "u1"}, RSA_KEY.private, algorithm="RS256")
        assert "no 'kid' header" in await refused(hub, no_kid)
        hs256 = jwt.encode({"sub": "u1"}, "s" * 40, algorithm="HS256", headers={"kid": "rsa-1"})
        assert "algorithm is not accepted (this hub accepts ES256, RS256)" in await refused(hub, hs256)
        # an ES256 token naming the RSA key: the key decides the algorithm, not the header
        confused = idp.token(SigningKey("rsa-1", "ES256", EC_KEY.private))
        assert "not the one of its key (RS256)" in await refused(hub, confused)
        wrong_signature = idp.token(SigningKey("rsa-1", "RS256", SigningKey.new("x").private))
        assert "signature does not verify" in await refused(hub, wrong_signature)


def test_a_jwks_url_that_is_not_http_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="FIELDSYNC_JWKS_URL: Invalid JWKS URI scheme 'file'"):
        JwksKeys("file:///etc/passwd")


def test_a_public_key_and_a_jwks_url_are_not_both_accepted() -> None:
    pem = RSA_KEY.private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(ConfigError, match="FIELDSYNC_JWT_PUBLIC_KEY or FIELDSYNC_JWKS_URL, not both"):
        JwtVerifier(public_key=pem, jwks=JwksKeys("http://127.0.0.1:9/jwks.json"))


async def test_logs_never_show_the_credentials_of_the_jwks_url(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    keys = JwksKeys(f"http://hub:jwks-password@127.0.0.1:{port}/jwks.json", min_refetch_seconds=0)
    with caplog.at_level(logging.INFO, "fieldsync.auth"):
        assert await keys.key("rsa-1") is None
    assert f"cannot refresh the JWKS from http://127.0.0.1:{port}/jwks.json" in caplog.text
    assert "jwks-password" not in caplog.text


@pytest.mark.parametrize("timings", [{"max_age_seconds": 0}, {"timeout_seconds": -1}, {"min_refetch_seconds": -1}])
def test_jwks_timings_are_checked(timings: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="positive max age and timeout and a refetch interval of 0 or more"):
        JwksKeys("https://idp.example/jwks.json", **timings)
