"""Capped exponential backoff with full jitter, driven by an injected random source."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from client_sdk import Backoff


def test_defaults_are_one_second_base_thirty_second_cap_and_no_attempt_limit() -> None:
    backoff = Backoff(random=lambda: 0.999999)
    delays = [backoff.next_delay() for _ in range(1000)]
    assert all(delay is not None for delay in delays), "a field device never gives up"
    assert delays[0] == pytest.approx(1.0, rel=1e-5)
    assert [round(d or 0) for d in delays[:7]] == [1, 2, 4, 8, 16, 30, 30]
    assert max(d or 0 for d in delays) <= 30.0


def test_full_jitter_spans_zero_to_the_ceiling() -> None:
    low, high = Backoff(random=lambda: 0.0), Backoff(random=lambda: 0.5)
    assert [low.next_delay() for _ in range(4)] == [0.0, 0.0, 0.0, 0.0]
    assert [high.next_delay() for _ in range(4)] == [0.5, 1.0, 2.0, 4.0]


@given(base=st.floats(0.01, 5), factor=st.floats(1, 100), seed=st.integers(0, 2**32), attempts=st.integers(1, 200))
def test_every_delay_is_within_its_bounds(base: float, factor: float, seed: int, attempts: int) -> None:
    cap = base * factor
    backoff = Backoff(base, cap, random=random.Random(seed).random)
    for attempt in range(attempts):
        delay = backoff.next_delay()
        assert delay is not None
        assert 0 <= delay <= min(cap, base * 2 ** min(attempt, 64)) <= cap


def test_reset_starts_again_from_the_base() -> None:
    backoff = Backoff(1, 30, random=lambda: 0.999)
    for _ in range(10):
        backoff.next_delay()
    assert backoff.next_delay() == pytest.approx(29.97)
    backoff.reset()
    assert backoff.attempts == 0
    assert backoff.next_delay() == pytest.approx(0.999)


def test_attempts_can_be_limited() -> None:
    backoff = Backoff(1, 2, max_attempts=3, random=lambda: 1.0)
    assert [backoff.next_delay() for _ in range(5)] == [1.0, 2.0, 2.0, None, None]
    assert backoff.exhausted


def test_a_very_long_outage_does_not_overflow() -> None:
    backoff = Backoff(1, 30, random=lambda: 1.0)
    backoff.attempts = 10_000
    assert backoff.next_delay() == 30.0


@pytest.mark.parametrize("kwargs", [{"base": 0}, {"base": 2, "cap": 1}, {"max_attempts": 0}])
def test_bad_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)
