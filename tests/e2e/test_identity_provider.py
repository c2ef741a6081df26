"""A hub process that trusts an identity provider: tokens signed with the keys of its JWKS, served over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pycrdt import Map

from tests.support.client import Denied, HubClient
from tests.support.hub import HubProcess, free_port
from tests.support.idp import AUDIENCE, ISSUER, IdentityProvider, SigningKey

NAME = "work_order:WO-7"
RSA_KEY = SigningKey.new("rsa-1", "RS256")
EC_KEY = SigningKey.new("ec-1", "ES256")


def idp_hub(tmp_path: Path, jwks_url: str) -> HubProcess:
    """A hub with no secret at all: only the identity provider's tokens open documents."""
    env = {"FIELDSYNC_JWKS_URL": jwks_url, "FIELDSYNC_JWT_AUDIENCE": AUDIENCE, "FIELDSYNC_JWT_ISSUER": ISSUER}
    return HubProcess(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/hub.db", env, jwt_secret=None)


@pytest.fixture
def idp() -> Iterator[IdentityProvider]:
    with IdentityProvider(RSA_KEY, EC_KEY).serve() as provider:
        yield provider


async def test_documents_open_with_tokens_signed_by_the_identity_provider(tmp_path: Path,
                                                                          idp: IdentityProvider) -> None:
    hub = idp_hub(tmp_path, idp.url)
    hub.start()
    try:
        assert idp.requests == 1, "the hub fetched the keys at start"
        async with HubClient.connect(hub.ws_url) as writer:
            await writer.open(NAME, idp.token(RSA_KEY))
            assert await writer.set_fields(NAME, {"phase": "OPEN"})

        async with HubClient.connect(hub.ws_url) as reader:
            doc = await reader.open(NAME, idp.token(EC_KEY, sub="u2", device="d2"))
            assert doc.get("record", type=Map).to_py() == {"phase": "OPEN"}

        async with HubClient.connect(hub.ws_url) as stranger:
            for token, reason in [
                (idp.token(RSA_KEY, aud="another-api"), "token_invalid: token 'aud' claim does not name"),
                (idp.token(RSA_KEY, iss="https://elsewhere/"), "token_invalid: token 'iss' claim is not"),
                (idp.token(SigningKey("rsa-1", "RS256", SigningKey.new("x").private)), "token_invalid: token signature"),
                (hub.token(), "token_invalid: token algorithm is not accepted (this hub accepts ES256, RS256)"),
            ]:
                with pytest.raises(Denied) as denied:
                    await stranger.authenticate(NAME, token)
                assert str(denied.value).startswith(reason)
    finally:
        hub.stop()


async def test_a_hub_starts_before_its_identity_provider_and_uses_it_once_it_answers(tmp_path: Path) -> None:
    port = free_port()
    idp = IdentityProvider(RSA_KEY)
    hub = idp_hub(tmp_path, f"http://127.0.0.1:{port}/.well-known/jwks.json")
    hub.start()  # ready although nothing answers at the JWKS URL
    try:
        log = hub.log.read_text()
        assert "cannot fetch the JWKS from http://127.0.0.1" in log and "its tokens are refused until it answers" in log
        with idp.serve(port):
            deadline = time.monotonic() + 15
            async with HubClient.connect(hub.ws_url) as client:
                while True:
                    try:
                        await client.authenticate(NAME, idp.token(RSA_KEY))
                        break
                    except Denied as denied:  # fetching again waits out the refetch interval
                        assert str(denied).startswith("token_invalid: token 'kid' names no key")
                        assert time.monotonic() < deadline, "the hub never fetched the keys again"
                        await asyncio.sleep(0.5)
            assert 1 <= idp.requests <= 2, "a refused token does not make the hub fetch at every attempt"
    finally:
        hub.stop()


def test_production_warns_about_a_plain_http_jwks(tmp_path: Path, idp: IdentityProvider) -> None:
    hub = idp_hub(tmp_path, idp.url)
    hub.extra_env["FIELDSYNC_ENV"] = "production"
    hub.start()
    try:
        log = hub.log.read_text()
        assert f"FIELDSYNC_JWKS_URL {idp.url} is plain HTTP" in log
        assert "cannot fetch" not in log
    finally:
        hub.stop()


async def test_a_rotated_key_is_picked_up_and_made_up_kids_do_not_hammer_the_provider(
    tmp_path: Path, idp: IdentityProvider
) -> None:
    hub = idp_hub(tmp_path, idp.url)
    hub.start()
    try:
        started = time.monotonic()
        rotated = SigningKey.new("rsa-2", "RS256")
        idp.rotate(rotated, keep=False)
        made_up = [idp.token(SigningKey(f"made-up-{n}", "RS256", rotated.private)) for n in range(20)]
        async with HubClient.connect(hub.ws_url) as client:
            while True:
                for token in made_up:
                    with pytest.raises(Denied):
                        await client.authenticate(NAME, token)
                try:
                    await client.authenticate(NAME, idp.token(rotated))
                    break
                except Denied as denied:  # until the refetch interval since the start's fetch has passed
                    assert str(denied).startswith("token_invalid: token 'kid' names no key")
                    assert time.monotonic() - started < 15, "the rotated key was never fetched"
                    await asyncio.sleep(0.2)
        elapsed = time.monotonic() - started
        assert idp.requests <= 2 + int(elapsed / 5), f"{idp.requests} fetches in {elapsed:.1f} s"
    finally:
        hub.stop()
