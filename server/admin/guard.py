"""Who may use the admin API: a Bearer JWT verified by the hub's token check, with the role ``admin``.

Refusals are JSON ``{"code": ..., "reason": ...}``: 401 with ``token_missing``, ``token_invalid``,
``token_expired`` or ``device_revoked``; 403 ``forbidden`` for a valid token without the role. The admin acts
on the tenant of its own token only.
"""

from __future__ import annotations

from litestar import Request, Response
from litestar.exceptions import HTTPException

from sync import AdminError, AuthError, ErrorCode, FieldsyncError, Principal, StoreError

__all__ = ["ADMIN_ROLE", "admin_principal", "refusal"]

ADMIN_ROLE = "admin"
_NOT_FOUND = {ErrorCode.DEVICE_NOT_FOUND, ErrorCode.DOCUMENT_NOT_LOADED}


async def admin_principal(request: Request) -> Principal:
    """The admin behind the request's Bearer token; raises ``AuthError`` (turned into 401 or 403)."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError(ErrorCode.TOKEN_MISSING, "send Authorization: Bearer <an admin JWT>")
    principal = await request.app.state.hub.verifier.verify(token.strip())
    if ADMIN_ROLE not in principal.roles:
        raise AuthError(ErrorCode.FORBIDDEN, f"the admin API needs the role {ADMIN_ROLE!r}")
    return principal


def refusal(request: Request, exc: Exception) -> Response[dict[str, str]]:
    """The admin API's error answer for a fieldsync error (and Litestar's own, in the same shape)."""
    if isinstance(exc, HTTPException):
        return Response({"code": "bad_request", "reason": str(exc.detail)}, status_code=exc.status_code)
    assert isinstance(exc, FieldsyncError)
    if isinstance(exc, AuthError):
        status = 403 if exc.code == ErrorCode.FORBIDDEN else 401
    elif isinstance(exc, AdminError):
        status = 404 if exc.code in _NOT_FOUND else 409
    elif isinstance(exc, StoreError):
        status = 503
    else:
        status = 400
    return Response({"code": str(exc.code), "reason": exc.reason}, status_code=status)
