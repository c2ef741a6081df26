"""Plain HTTP calls to a hub process (urllib in a worker thread, so async tests keep their loop free)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any


def request(url: str, method: str = "GET", *, token: str | None = None, body: Any = None,
            headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers of one request (error statuses are answers, not exceptions)."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    call = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(call, timeout=10) as response:
            return response.status, response.read(), {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, error.read(), {k.lower(): v for k, v in error.headers.items()}


async def call(url: str, method: str = "GET", *, token: str | None = None, body: Any = None) -> tuple[int, Any]:
    """Status and decoded JSON answer."""
    status, raw, _ = await asyncio.to_thread(request, url, method, token=token, body=body)
    return status, json.loads(raw) if raw else None
