"""Tokens: ``exp`` read without verifying, when a provider is asked again, and a failing provider retried."""

from __future__ import annotations

import base64
import json

import pytest

from client_sdk import Backoff, SyncEvent, TokenRefreshed, TokenRefreshFailed, token_expiry
from client_sdk.credentials import Credentials
from server.auth import mint_token

SECRET = "fieldsync-test-secret-0123456789abcdef-0123456789"
NOW = 1_800_000_000.0


def jwt(payload: object) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJIUzI1NiJ9.{body}.c2lnbmF0dXJl"


def token(ttl: float, now: float = NOW) -> str:
    return mint_token(SECRET, sub="tech-1", tenant="acme", device="d1", roles=["technician"], ttl_seconds=int(ttl),
                      now=now)


def test_the_expiry_is_read_from_the_payload_without_the_key() -> None:
    assert token_expiry(token(60)) == NOW + 60
    assert token_expiry(jwt({"exp": 1_900_000_000.5})) == 1_900_000_000.5


@pytest.mark.parametrize("text", [
    "not-a-jwt", "a.b", "a.b.c.d", "x.!!!.y", jwt(["exp", 1]), jwt({"sub": "u"}), jwt({"exp": "soon"}),
    jwt({"exp": True}), "x." + base64.urlsafe_b64encode(b"\xff\xfe").decode() + ".y",
])
def test_a_token_without_a_readable_expiry_has_none(text: str) -> None:
    assert token_expiry(text) is None


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def credentials(source, clock: Clock, events: list[SyncEvent], margin: float = 60.0) -> Credentials:  # type: ignore[no-untyped-def]
    async def no_wait(_: float) -> None:
        return None

    return Credentials(source, margin=margin, backoff=Backoff(1.0, 30.0, random=lambda: 0.5), report=events.append,
                       sleep=no_wait, wall_clock=clock)


async def test_a_provider_is_asked_a_margin_before_expiry_and_never_sooner_than_half_the_life() -> None:
    clock, events = Clock(), []
    lives = iter([3600, 80, 60])
    creds = credentials(lambda: _value(token(next(lives), clock.now)), clock, events)
    assert creds.renewable and creds.token is None and creds.seconds_to_refresh() is None
    await creds.current()
    assert creds.seconds_to_refresh() == 3600 - 60
    clock.now += 3600 - 60
    await creds.renew()  # a token living 80 s: 60 s before its end would be 20 s from now; half way is 40 s
    assert creds.seconds_to_refresh() == 40
    clock.now += 40
    await creds.renew()  # living 60 s, no longer than the margin: half way again, never at once
    assert creds.seconds_to_refresh() == 30
    assert [type(e) for e in events] == [TokenRefreshed] * 3


async def test_a_device_whose_clock_runs_ahead_goes_by_the_token_s_own_lifetime() -> None:
    clock, events = Clock(), []
    clock.now = NOW + 900  # fifteen minutes ahead of the identity provider
    issued = [NOW, NOW + 1]
    creds = credentials(lambda: _value(token(600, issued.pop(0))), clock, events)
    await creds.current()
    assert creds.seconds_to_refresh() == 600 - 60, "not at once, and not again and again"
    clock.now += 540
    await creds.renew()
    assert creds.seconds_to_refresh() == 540


async def test_a_provider_that_gives_the_same_token_again_is_not_asked_before_it_expires() -> None:
    clock, events = Clock(), []
    cached = token(120)
    creds = credentials(lambda: _value(cached), clock, events)
    await creds.current()
    clock.now += 60
    await creds.renew()
    assert creds.seconds_to_refresh() is None, "asking again at once would only get the same token"
    clock.now += 61
    creds.drop()  # the hub said token_expired
    assert creds.token is None


async def test_a_held_token_is_used_until_it_expires_then_the_provider_is_asked() -> None:
    clock, events = Clock(), []
    calls = []

    async def provider() -> str:
        calls.append(clock.now)
        return token(30, clock.now)

    creds = credentials(provider, clock, events)
    first = await creds.current()
    assert await creds.current() == first and len(calls) == 1
    clock.now += 31
    assert await creds.current() != first and len(calls) == 2


async def test_a_failing_provider_is_asked_again_after_growing_delays_and_each_failure_is_reported() -> None:
    clock, events = Clock(), []
    answers: list[object] = [RuntimeError("login server down"), "", None, token(600)]

    async def provider() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]

    creds = credentials(provider, clock, events)
    assert await creds.current() == creds.token
    failures = [e for e in events if isinstance(e, TokenRefreshFailed)]
    assert [(f.attempt, f.delay) for f in failures] == [(1, 0.5), (2, 1.0), (3, 2.0)]
    assert "login server down" in failures[0].error and "returned str" in failures[1].error
    assert "returned NoneType" in failures[2].error and isinstance(events[-1], TokenRefreshed)


async def test_a_fixed_token_is_never_renewed_and_nonsense_is_refused() -> None:
    clock, events = Clock(), []
    creds = credentials(token(1), clock, events)
    clock.now += 10
    assert not creds.renewable and await creds.current() == creds.token, "the hub says it expired, loudly"
    assert creds.seconds_to_refresh() is None
    creds.drop()
    assert creds.token is not None, "nothing could replace it"
    creds.replace(token(600, clock.now))
    assert creds.expires_at == clock.now + 600
    with pytest.raises(TypeError, match="string or an async callable"):
        credentials(42, clock, events)


async def _value(text: str) -> str:
    return text
