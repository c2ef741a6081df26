"""The token the sync client authenticates with: a fixed string, or one fetched from the app and kept fresh.

A *token provider* is an async callable that returns a fresh token (as PowerSync's ``fetchCredentials``):
the app's login code, asking its identity provider. The client reads the token's ``exp`` (the JWT payload,
decoded without verifying: the hub verifies) and asks for the next one ``margin`` seconds before it expires,
never sooner than half way through what was left of the token's life when it came (so a short-lived token
does not make the client ask again and again; a device whose clock runs ahead, so that a fresh token already
looks expired, goes by the token's ``iat``). A provider that raises is asked again after a backoff delay, for
ever, and each failure is reported; it never ends the client.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from collections.abc import Awaitable, Callable

from client_sdk.backoff import Backoff
from client_sdk.state import SyncEvent, TokenRefreshed, TokenRefreshFailed

TokenProvider = Callable[[], Awaitable[str]]
"""Returns a token for the hub (a JWT with ``exp``); may raise, and is then asked again later."""


#: Seconds: the provider is never asked again sooner than this after it gave a token.
MIN_REFRESH = 0.5


def token_expiry(token: str) -> float | None:
    """The ``exp`` claim of JWT ``token`` in Unix seconds, read without verifying; ``None`` without one."""
    return _claim(token, "exp")


def _claim(token: str, name: str) -> float | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):  # not base64, not UTF-8 or not JSON: the hub will say what it thinks
        return None
    value = payload.get(name) if isinstance(payload, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class Credentials:
    """The current token and, with a provider, when and how to get the next one."""

    def __init__(self, token: str | TokenProvider, *, margin: float, backoff: Backoff,
                 report: Callable[[SyncEvent], None], sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.margin = margin
        self._backoff = backoff
        self._report = report
        self._sleep = sleep
        self._wall_clock = wall_clock
        self.token: str | None = None
        self.expires_at: float | None = None
        """The held token's ``exp`` (Unix seconds), when it has one."""
        self._refresh_at: float | None = None
        self._provider: TokenProvider | None = None
        if isinstance(token, str):
            self._set(token)
        elif callable(token):
            self._provider = token
        else:
            raise TypeError(f"token must be a string or an async callable returning one, not {type(token).__name__}")

    @property
    def renewable(self) -> bool:
        """Whether a refused or expired token can be replaced without the app (a provider was given)."""
        return self._provider is not None

    def _set(self, token: str) -> None:
        previous = self.expires_at
        self.token = token
        self.expires_at = token_expiry(token)
        self._refresh_at = None
        # a token no newer than the last one (a provider's cache) is not asked for again before it expires
        if self.expires_at is not None and (previous is None or self.expires_at > previous):
            now = self._wall_clock()
            left = self.expires_at - now
            issued = _claim(token, "iat")
            if left <= 0 and issued is not None and issued < self.expires_at:
                left = self.expires_at - issued  # the device's clock is ahead: go by the token's own lifetime
            self._refresh_at = now + max(left - self.margin, left / 2, MIN_REFRESH)

    def replace(self, token: str) -> None:
        """Use ``token`` from now on (``SyncClient.set_token``)."""
        self._set(token)

    def drop(self) -> None:
        """The hub refused the token: a provider is asked for a new one before the next connection."""
        if self._provider is not None:
            self.token = self.expires_at = self._refresh_at = None

    async def current(self) -> str:
        """The token to open a connection with: the one held, or (none held, or expired) the provider's next."""
        if self.token is not None and (self._provider is None or not self._expired()):
            return self.token
        return await self.renew()

    def _expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= self._wall_clock()

    def seconds_to_refresh(self) -> float | None:
        """Seconds until the provider should be asked for the next token; ``None``: not before it expires."""
        if self._provider is None or self._refresh_at is None:
            return None
        return max(0.0, self._refresh_at - self._wall_clock())

    async def renew(self) -> str:
        """A new token from the provider, asking again after a backoff delay until it gives one."""
        assert self._provider is not None, "only a provider renews"
        while True:
            try:
                token = await self._provider()
                if not isinstance(token, str) or not token:
                    raise TypeError(f"the token provider returned {type(token).__name__}, not a token")
            except Exception as exc:  # the app's code: whatever it raises, ask again later
                delay = self._backoff.next_delay()
                delay = self._backoff.cap if delay is None else delay
                self._report(TokenRefreshFailed(self._backoff.attempts, f"{type(exc).__name__}: {exc}", delay))
                await self._sleep(delay)
                continue
            self._backoff.reset()
            self._set(token)
            self._report(TokenRefreshed(self.expires_at))
            return token

    async def keep_fresh(self, reauthenticate: Callable[[], None]) -> None:
        """Until cancelled: ask the provider for the next token when it is due, and hand it to ``reauthenticate``."""
        while True:
            wait = self.seconds_to_refresh()
            if wait is None:
                await asyncio.Event().wait()  # not before this token expires: the hub will say so
            await asyncio.sleep(wait)
            await self.renew()
            reauthenticate()
