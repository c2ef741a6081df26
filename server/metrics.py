"""``/metrics`` in the Prometheus text format: on the hub's port behind a scrape token, or on a port of its own.

- ``FIELDSYNC_METRICS=off``: no metrics are kept and nothing is served.
- ``FIELDSYNC_METRICS_PORT`` set: served only there (``GET /metrics`` on ``FIELDSYNC_HOST:<port>``), by a small
  HTTP responder on the hub's event loop, so the hub's own port has no ``/metrics``.
- Otherwise on the hub's port. With ``FIELDSYNC_METRICS_TOKEN`` a scraper sends ``Authorization: Bearer <token>``
  (401 ``token_missing`` / ``token_invalid`` otherwise); without one the route is open in development and
  refused in production (403 ``forbidden``), so a production hub never shows its figures to anyone by accident.
"""

from __future__ import annotations

import asyncio
import hmac
import logging

from litestar import Request, get
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from server.config import Settings
from sync import ErrorCode

__all__ = ["MetricsListener", "check_scrape", "metrics"]

log = logging.getLogger("fieldsync.metrics")


def check_scrape(settings: Settings, authorization: str | None) -> tuple[int, str] | None:
    """``None`` when the scrape may go ahead, else the HTTP status and the ``code: reason`` refusing it."""
    token = settings.metrics_token
    if token is None:
        if settings.environment == "production" and settings.metrics_port is None:
            return 403, f"{ErrorCode.FORBIDDEN}: set FIELDSYNC_METRICS_TOKEN or FIELDSYNC_METRICS_PORT to serve metrics"
        return None
    if not authorization:
        return 401, f"{ErrorCode.TOKEN_MISSING}: send Authorization: Bearer <FIELDSYNC_METRICS_TOKEN>"
    scheme, _, sent = authorization.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(), token.encode()):
        return 401, f"{ErrorCode.TOKEN_INVALID}: not the scrape token"
    return None


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


@get("/metrics", include_in_schema=False, sync_to_thread=False)
def metrics(request: Request) -> Response[bytes]:
    """The hub's metrics (see the README, Operators)."""
    settings: Settings = request.app.state.settings
    refused = check_scrape(settings, request.headers.get("authorization"))
    if refused is not None:
        status, reason = refused
        return Response(reason.encode() + b"\n", status_code=status, media_type="text/plain")
    # Litestar appends the charset itself
    return Response(render(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST.split(";")[0] + ";"
                    + CONTENT_TYPE_LATEST.split(";")[1])


class MetricsListener:
    """``GET /metrics`` on a port of its own, answered on the hub's event loop (HTTP/1.0, one request per socket)."""

    def __init__(self, settings: Settings, registry: CollectorRegistry) -> None:
        self._settings = settings
        self._registry = registry
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        assert self._settings.metrics_port is not None
        self._server = await asyncio.start_server(self._serve, self._settings.host, self._settings.metrics_port)
        log.info("metrics on http://%s:%d/metrics", self._settings.host, self._settings.metrics_port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, path, *_ = request_line.split(" ") + ["", ""]
            pairs = (line.partition(":") for line in header_lines if line)
            headers = {key.strip().lower(): value.strip() for key, _, value in pairs}
            if method != "GET" or path.split("?")[0] != "/metrics":
                status, body, kind = 404, b"only GET /metrics is served here\n", "text/plain"
            elif (refused := check_scrape(self._settings, headers.get("authorization"))) is not None:
                status, body, kind = refused[0], refused[1].encode() + b"\n", "text/plain"
            else:
                status, body, kind = 200, render(self._registry), CONTENT_TYPE_LATEST
            reason = {200: "OK", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}[status]
            writer.write(f"HTTP/1.0 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
                         f"Connection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()
