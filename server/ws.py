"""The ``/sync`` WebSocket endpoint: adapts a socket to a hub ``Session``.

``SyncEndpoint`` is a plain ASGI application placed in front of the Litestar app (``fieldsync serve`` does
so): every frame of a sync socket goes straight between the server and the session, without Litestar's
per-message wrappers (its send and receive wrappers and its exception middleware cost a few function calls
per frame, which at tens of thousands of frames per second is a good share of the hub's time). Everything
else (HTTP routes, the lifespan that starts the hub) goes to the Litestar app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from litestar import Litestar

from sync import CloseCode, Hub, Session

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
SYNC_PATHS = ("/sync", "/sync/")


class AsgiTransport:
    """Sends, receives and closes through the raw ASGI channel (no per-frame encoding work)."""

    __slots__ = ("_receive", "_send", "_closed")

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self._closed = False

    async def send(self, data: bytes) -> None:
        await self._send({"type": "websocket.send", "bytes": data})

    async def close(self, code: int, reason: str) -> None:
        if not self._closed:
            self._closed = True
            await self._send({"type": "websocket.close", "code": code, "reason": reason})

    async def receive(self) -> bytes | str | None:
        event = await self._receive()
        if event["type"] == "websocket.disconnect":
            self._closed = True
            return None
        data = event.get("bytes")
        if data is not None:
            return data
        return event.get("text") or ""


async def serve(hub: Hub, transport: AsgiTransport, address: str = "") -> None:
    """One device or viewer on an accepted socket: any number of documents (see README, protocol).

    Until it authenticates a document the socket counts against its address (``Hub.admission``); an address
    already at its limit of unauthenticated sockets gets this one closed at once with 4429.
    """
    if hub.closing:
        await transport.close(CloseCode.GOING_AWAY, "hub shutting down")
        return
    ticket = hub.admission.admit(address)
    if ticket is None:
        limit = hub.config.max_unauthenticated_per_address
        await transport.close(CloseCode.TOO_MANY_CONNECTIONS, f"too_many_connections: over {limit} unauthenticated from one address")
        return
    try:
        await Session(hub, transport, ticket=ticket).run(transport.receive)
    finally:
        ticket.release()


class SyncEndpoint:
    """ASGI app: ``/sync`` sockets go to the hub directly; everything else (HTTP, lifespan) to ``app``."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self.hub: Hub = app.state.hub

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or scope["path"] not in SYNC_PATHS:
            await self.app(scope, receive, send)  # type: ignore[arg-type]
            return
        event = await receive()
        if event["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        client = scope.get("client")
        await serve(self.hub, AsgiTransport(receive, send), client[0] if client else "")

