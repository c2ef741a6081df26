"""An identity provider's signing keys, fetched from its JWKS URL and kept current.

Keys are looked up by the token's ``kid``. The key set is fetched with PyJWT's ``PyJWKClient`` in a
worker thread, never on the event loop, and fetched again when

- a token names a ``kid`` the cached set lacks (the provider rotated its keys), or
- the cached set is older than ``max_age_seconds`` (so a key the provider withdrew stops verifying),

but never more often than once per ``min_refetch_seconds``, whatever the tokens say, so a flood of
made-up ``kid`` values cannot turn the hub against its identity provider. Concurrent lookups share one
fetch. A failed fetch keeps the keys already known: an identity provider that is down for a while does not
lock out every device whose token it signed before.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit, urlunsplit

import jwt
from jwt import PyJWK, PyJWKClient

from sync import ConfigError

__all__ = ["JWKS_ALGORITHMS", "JwksKeys", "JwksUnavailable"]

logger = logging.getLogger("fieldsync.auth")

#: The algorithms a JWKS key may verify; keys for others are ignored.
JWKS_ALGORITHMS = frozenset({"RS256", "ES256"})
DEFAULT_MAX_AGE_SECONDS = 300.0
DEFAULT_MIN_REFETCH_SECONDS = 5.0
DEFAULT_FETCH_TIMEOUT_SECONDS = 5.0


class JwksUnavailable(Exception):
    """The key set could not be fetched or is not a usable JWKS document; ``str()`` says why."""


class JwksKeys:
    """The signing keys published at one JWKS URL."""

    def __init__(
        self,
        url: str,
        *,
        max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS,
        min_refetch_seconds: float = DEFAULT_MIN_REFETCH_SECONDS,
        timeout_seconds: float = DEFAULT_FETCH_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_age_seconds <= 0 or timeout_seconds <= 0 or min_refetch_seconds < 0:
            raise ConfigError("a JWKS needs a positive max age and timeout and a refetch interval of 0 or more")
        try:
            # The client keeps no cache of its own: this class decides when to fetch.
            self._client = PyJWKClient(url, cache_jwk_set=False, timeout=timeout_seconds)
        except jwt.PyJWKClientError as exc:
            raise ConfigError(f"FIELDSYNC_JWKS_URL: {exc}") from None
        self.url = url
        self._where = _without_credentials(url)  # what logs show
        self._max_age = max_age_seconds
        self._min_refetch = min_refetch_seconds
        self._clock = clock
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._inflight: asyncio.Future[dict[str, PyJWK]] | None = None

    @property
    def key_ids(self) -> frozenset[str]:
        """The ``kid`` of every key known now."""
        return frozenset(self._keys)

    def refresh(self) -> None:
        """Fetch the key set now, blocking (for start-up, before the event loop serves); raises
        ``JwksUnavailable``. It counts as an attempt for the refetch limit."""
        self._attempted_at = self._clock()
        self._install(self._fetch())

    async def key(self, kid: str) -> PyJWK | None:
        """The key with ``kid``, fetching the set first when it is stale or lacks ``kid`` and a fetch is
        allowed; ``None`` when no such key is known."""
        if kid not in self._keys or self._stale():
            await self._refetch()
        return self._keys.get(kid)

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._max_age

    async def _refetch(self) -> None:
        if self._inflight is None:
            if self._attempted_at is not None and self._clock() - self._attempted_at < self._min_refetch:
                return
            self._attempted_at = self._clock()
            self._inflight = asyncio.get_running_loop().run_in_executor(None, self._fetch)
            self._inflight.add_done_callback(self._fetched)  # runs before any waiter resumes
        try:
            # shielded: a caller that goes away (its socket closed) does not cancel the fetch others wait for
            await asyncio.shield(self._inflight)
        except JwksUnavailable:
            pass  # logged once by _fetched; the keys known before still verify

    def _fetched(self, future: asyncio.Future[dict[str, PyJWK]]) -> None:
        self._inflight = None
        if future.cancelled():
            return
        error = future.exception()
        if error is None:
            self._install(future.result())
            return
        kept = f"keeping the {len(self._keys)} key(s) fetched before" if self._keys else "no keys are known yet"
        logger.warning("cannot refresh the JWKS from %s: %s; %s", self._where, error, kept)

    def _fetch(self) -> dict[str, PyJWK]:
        try:
            keys = self._client.get_signing_keys(refresh=True)
        except jwt.PyJWKClientConnectionError as exc:
            raise JwksUnavailable(f"no answer ({_cause(exc)})") from None
        except jwt.PyJWTError as exc:  # PyJWKClientError, PyJWKSetError: an answer, but no key set
            raise JwksUnavailable(f"not a usable JWKS document ({exc})") from None
        except ValueError:
            raise JwksUnavailable("not a JWKS document (the answer is not JSON)") from None
        usable = {key.key_id: key for key in keys if key.key_id and key.algorithm_name in JWKS_ALGORITHMS}
        if not usable:
            raise JwksUnavailable(f"no RS256 or ES256 signing key with a 'kid' among its {len(keys)} key(s)")
        return usable

    def _install(self, keys: dict[str, PyJWK]) -> None:
        self._keys = keys
        self._fetched_at = self._clock()
        logger.info("JWKS from %s: key(s) %s", self._where, ", ".join(sorted(keys)))


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__
    if isinstance(cause, URLError) and not isinstance(cause, HTTPError):
        return str(cause.reason)  # "[Errno 111] Connection refused" rather than "<urlopen error ...>"
    return str(cause or exc)
