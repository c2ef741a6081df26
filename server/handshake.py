"""The HTTP side of a connection, with a deadline for each request to arrive whole.

Uvicorn arms no timer before a connection's first request is complete, so a client that opens TCP and
sends half an upgrade request (or nothing) holds its socket for as long as it likes. This protocol drops
a connection whose request (the WebSocket upgrade included) is not complete within the handshake timeout.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["handshake_protocol"]


def handshake_protocol(timeout: float) -> type[asyncio.Protocol]:
    """Uvicorn's h11 protocol, closing any connection that takes longer than ``timeout`` to send a request."""

    class HandshakeTimeoutProtocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._deadline is None and (self.cycle is None or self.cycle.response_complete):
                self._arm()  # the next request of a kept-alive connection starts arriving
            super().data_received(data)

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not None and not self.cycle.response_complete:
                self._disarm()  # a whole request arrived

        def handle_websocket_upgrade(self, event: object) -> None:
            self._disarm()
            super().handle_websocket_upgrade(event)  # type: ignore[arg-type]

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._deadline = self.loop.call_later(timeout, self._expired)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self) -> None:
            self._deadline = None
            self.transport.close()

    return HandshakeTimeoutProtocol
