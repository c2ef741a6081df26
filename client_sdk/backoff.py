"""Capped exponential backoff with full jitter, on an injectable random source."""

from __future__ import annotations

import random as _random
from collections.abc import Callable


class Backoff:
    """Delays before reconnect attempts: attempt ``n`` (from 0) waits ``uniform(0, min(cap, base * 2**n))``.

    Full jitter spreads a fleet of devices that lost the hub at the same moment, so they do not come back in
    one wave. ``max_attempts`` of ``None`` never gives up, which is what a field device wants.
    """

    def __init__(
        self,
        base: float = 1.0,
        cap: float = 30.0,
        *,
        max_attempts: int | None = None,
        random: Callable[[], float] = _random.random,
    ) -> None:
        if base <= 0 or cap < base:
            raise ValueError(f"backoff needs 0 < base <= cap, got base={base} cap={cap}")
        if max_attempts is not None and max_attempts < 1:
            raise ValueError("max_attempts must be at least 1 (or None for no limit)")
        self.base = base
        self.cap = cap
        self.max_attempts = max_attempts
        self._random = random
        self.attempts = 0

    def ceiling(self, attempt: int) -> float:
        """The largest delay attempt ``attempt`` may wait."""
        # 2**attempt overflows a float long before an unlimited device stops trying: stop doubling at the cap
        if attempt >= 64:
            return self.cap
        return min(self.cap, self.base * (2**attempt))

    @property
    def exhausted(self) -> bool:
        return self.max_attempts is not None and self.attempts >= self.max_attempts

    def next_delay(self) -> float | None:
        """The delay before the next attempt, or ``None`` when the attempts are used up."""
        if self.exhausted:
            return None
        delay = self._random() * self.ceiling(self.attempts)
        self.attempts += 1
        return delay

    def reset(self) -> None:
        """Start again from ``base``: called after a successful sync."""
        self.attempts = 0
