"""Token buckets: the per-device message rate limit of invariant 5."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """``rate`` tokens per second refill a bucket of ``burst``; each message takes one."""

    __slots__ = ("rate", "burst", "_tokens", "_stamp", "_clock")

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()

    def take(self, count: int = 1) -> float:
        """Take ``count`` tokens. Returns 0.0 when granted, else the seconds until they would be."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= count:
            self._tokens -= count
            return 0.0
        return (count - self._tokens) / self.rate

    def charge(self, count: float) -> None:
        """Take ``count`` tokens whether or not they are there (the bucket may go into debt)."""
        self.take(0)
        self._tokens -= count

    @property
    def used(self) -> float:
        """Tokens taken and not yet refilled."""
        now = self._clock()
        return max(0.0, self.burst - (self._tokens + (now - self._stamp) * self.rate))

    @property
    def full(self) -> bool:
        """True when the bucket has refilled completely (the device is idle; the bucket may be dropped)."""
        now = self._clock()
        return self._tokens + (now - self._stamp) * self.rate >= self.burst


class DeviceLimits:
    """The buckets of every device connected to this node, keyed by (tenant, device)."""

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def bucket(self, tenant: str, device: str) -> TokenBucket:
        key = (tenant, device)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self._rate, self._burst, clock=self._clock)
        return bucket

    def new_bucket(self) -> TokenBucket:
        """A bucket for a connection that has no verified device yet."""
        return TokenBucket(self._rate, self._burst, clock=self._clock)

    def prune(self) -> int:
        """Drop buckets of idle devices (full again); returns how many were dropped."""
        idle = [key for key, bucket in self._buckets.items() if bucket.full]
        for key in idle:
            del self._buckets[key]
        return len(idle)

    def __len__(self) -> int:
        return len(self._buckets)
