"""What the REST API answers when it refuses: one JSON shape, ``{"error", "message"[, "parameter"]}``.

``error`` is a stable code a client may branch on; ``parameter`` names the query or path parameter at fault.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import NotFoundException, ValidationException
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST, HTTP_401_UNAUTHORIZED, HTTP_403_FORBIDDEN, HTTP_404_NOT_FOUND, HTTP_409_CONFLICT,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from sync import StoreError

__all__ = ["ApiError", "BadParameter", "Forbidden", "NotFound", "Unauthorized", "exception_handlers"]


class ApiError(Exception):
    """A refusal with its HTTP status and a stable ``error`` code."""

    status_code = HTTP_400_BAD_REQUEST
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message}


class BadParameter(ApiError):
    """400: a parameter that is unknown, malformed or out of range; ``parameter`` names it."""

    code = "bad_parameter"

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter

    def body(self) -> dict[str, Any]:
        return {**super().body(), "parameter": self.parameter}


class Unauthorized(ApiError):
    """401: no bearer token, or one that does not verify (``error`` is the token code: token_missing, ...)."""

    status_code = HTTP_401_UNAUTHORIZED
    code = "token_missing"


class Forbidden(ApiError):
    """403: the token may not read (or do) this."""

    status_code = HTTP_403_FORBIDDEN
    code = "forbidden"


class NotFound(ApiError):
    """404: no such record (or conflict) in the token's tenant."""

    status_code = HTTP_404_NOT_FOUND
    code = "not_found"


class Conflict(ApiError):
    """409: the request contradicts the current state (a conflict already resolved)."""

    status_code = HTTP_409_CONFLICT
    code = "conflict"


def _api_error(_: Request[Any, Any, Any], exc: ApiError) -> Response[dict[str, Any]]:
    headers = {"WWW-Authenticate": 'Bearer realm="fieldsync"'} if exc.status_code == HTTP_401_UNAUTHORIZED else None
    return Response(exc.body(), status_code=exc.status_code, headers=headers)


def _validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    # Litestar's own checks of declared parameters (an int that is not one, a value out of bounds).
    extra = exc.extra if isinstance(exc.extra, list) else []
    problem = next((item for item in extra if isinstance(item, dict) and item.get("key")), None)
    if problem is None:
        return Response({"error": "bad_request", "message": exc.detail}, status_code=HTTP_400_BAD_REQUEST)
    return _api_error(_, BadParameter(str(problem["key"]), str(problem.get("message") or "invalid value")))


def _not_found(_: Request[Any, Any, Any], exc: NotFoundException) -> Response[dict[str, Any]]:
    return Response({"error": "not_found", "message": exc.detail}, status_code=HTTP_404_NOT_FOUND)


def _store_error(_: Request[Any, Any, Any], exc: StoreError) -> Response[dict[str, Any]]:
    return Response(
        {"error": "store_unavailable", "message": "the store did not answer; try again"},
        status_code=HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "1"},
    )


exception_handlers: dict[type[Exception], Any] = {
    ApiError: _api_error,
    ValidationException: _validation,
    NotFoundException: _not_found,
    StoreError: _store_error,
}
