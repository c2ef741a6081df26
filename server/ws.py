"""The ``/sync`` WebSocket endpoint: adapts a Litestar socket to a hub ``Session``."""

from __future__ import annotations

from litestar import WebSocket, websocket

from sync.hub import Hub
from sync.session import Session
from sync.codes import CloseCode


class AsgiTransport:
    """Sends and closes through the raw ASGI channel (no per-frame encoding work)."""

    __slots__ = ("_socket", "_closed")

    def __init__(self, socket: WebSocket) -> None:
        self._socket = socket
        self._closed = False

    async def send(self, data: bytes) -> None:
        await self._socket.send({"type": "websocket.send", "bytes": data})

    async def close(self, code: int, reason: str) -> None:
        if not self._closed:
            self._closed = True
            await self._socket.close(code, reason)

    async def receive(self) -> bytes | str | None:
        event = await self._socket.receive()
        if event["type"] == "websocket.disconnect":
            self._closed = True
            return None
        data = event.get("bytes")
        if data is not None:
            return data
        return event.get("text") or ""


@websocket("/sync")
async def sync_socket(socket: WebSocket) -> None:
    """One device or viewer: any number of documents over one socket (see README, protocol)."""
    hub: Hub = socket.app.state.hub
    await socket.accept()
    transport = AsgiTransport(socket)
    if hub.closing:
        await transport.close(CloseCode.GOING_AWAY, "hub shutting down")
        return
    await Session(hub, transport).run(transport.receive)
