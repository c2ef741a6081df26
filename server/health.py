"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from sync import Hub, StoreError


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    """The process is up and serving HTTP."""
    return {"status": "ok"}


@get("/readyz")
async def readyz(request: Request) -> Response[dict[str, str]]:
    """The hub can serve documents: its store answers and it is not shutting down. ``bus`` says whether the
    other nodes hear this one (``unavailable``: Redis is unreachable; it serves its own sockets meanwhile)."""
    hub: Hub = request.app.state.hub
    if hub.closing:
        return Response({"status": "unavailable", "reason": "shutting down"}, status_code=HTTP_503_SERVICE_UNAVAILABLE)
    try:
        await hub.store.ping()
    except StoreError as exc:
        return Response({"status": "unavailable", "reason": exc.reason}, status_code=HTTP_503_SERVICE_UNAVAILABLE)
    # a node cut off from the bus still serves its own sockets: ready, but it says so
    bus = "ok" if hub.bus_link.available else "unavailable"
    return Response({"status": "ready", "bus": bus}, status_code=HTTP_200_OK)
