"""The HTTP side of a connection, with a deadline for each request to arrive whole.

Uvicorn arms no timer while a request is arriving: a client that opens TCP and sends half a request (or
nothing, or a request's headers and then its body a byte at a time) holds its socket for as long as it likes,
on a connection's first request and on every later one a kept-alive connection sends. This protocol drops a
connection whose request, headers and body (the WebSocket upgrade included), is not complete within the
handshake timeout: from the connection's opening for the first request, from the first byte of each later one.
Between requests uvicorn's keep-alive timeout closes an idle connection; once upgraded, the socket no longer
goes through this protocol, so WebSocket frames cost nothing here.
"""

from __future__ import annotations

import asyncio

import h11  # uvicorn's h11 protocol, subclassed here, is built on it
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["handshake_protocol"]


def handshake_protocol(timeout: float) -> type[asyncio.Protocol]:
    """Uvicorn's h11 protocol, closing any connection that takes longer than ``timeout`` to send a request."""

    class HandshakeTimeoutProtocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _upgraded = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()  # the first request is due from the moment the connection opens

        def handle_events(self) -> None:
            # runs after every read and after every response (when a pipelined request may be waiting)
            super().handle_events()
            if self._upgraded:
                return
            arriving = self.conn.their_state is h11.SEND_BODY or (
                self.conn.their_state is h11.IDLE and bool(self.conn.trailing_data[0])
            )
            if not arriving:
                self._disarm()  # a whole request arrived (or none has started): the wait is not the client's
            elif self._deadline is None:
                self._arm()  # a request has started arriving: it must be complete in time

        def handle_websocket_upgrade(self, event: h11.Request) -> None:
            self._upgraded = True
            self._disarm()
            super().handle_websocket_upgrade(event)

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
