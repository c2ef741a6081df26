"""Bearer tokens on HTTP: the ``principal`` dependency every API route takes.

The same ``TokenVerifier`` as ``/sync`` (the hub's), so a token works on both and the tenant is always the
token's.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from server.api.errors import Unauthorized
from sync import AuthError, Hub, Principal

__all__ = ["principal"]

_SCHEME = "bearer"


async def principal(request: Request[Any, Any, Any]) -> Principal:
    """The verified principal of the request's ``Authorization: Bearer <token>``; 401 without one."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("send the token as Authorization: Bearer <token>", code="token_missing")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != _SCHEME or not token.strip():
        raise Unauthorized("the Authorization header must be Bearer <token>", code="token_missing")
    hub: Hub = request.app.state.hub
    try:
        return await hub.verifier.verify(token.strip())
    except AuthError as exc:
        raise Unauthorized(exc.reason, code=str(exc.code)) from None
