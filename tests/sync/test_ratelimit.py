from __future__ import annotations

from sync.connection.limits import DeviceLimits, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_grants_a_burst_then_the_rate_and_says_how_long_to_wait() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=2, burst=3, clock=clock)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == 0.5
    clock.now = 0.5
    assert bucket.take() == 0.0
    clock.now = 100
    assert bucket.full and bucket.used == 0


def test_charge_puts_a_bucket_into_debt() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1, burst=2, clock=clock)
    bucket.charge(4)
    assert bucket.take() == 3.0
    assert bucket.used == 4


def test_device_buckets_are_shared_per_device_and_pruned_when_idle() -> None:
    clock = Clock()
    limits = DeviceLimits(rate=1, burst=2, clock=clock)
    assert limits.bucket("acme", "d1") is limits.bucket("acme", "d1")
    assert limits.bucket("acme", "d1") is not limits.bucket("globex", "d1")
    limits.bucket("acme", "d1").take()
    assert limits.prune() == 1 and len(limits) == 1
    clock.now = 10
    assert limits.prune() == 1 and len(limits) == 0
