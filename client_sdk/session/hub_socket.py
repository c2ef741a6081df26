"""One WebSocket to the hub: ordered sends, decoded frames handed to a handler, traffic counters, heartbeat.

Sends are queued and written by one task, so the order in which the session *decides* to send frames is the
order they leave in, whatever the socket's speed; a frame is queued without waiting, which keeps
"send these entries, then this step 2" free of interleaving. Ping and Pong are handled here: a Ping is
answered at once, and any received frame counts as a sign of life for the heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import websockets
from websockets.asyncio.client import ClientConnection, connect

from client_sdk.errors import HubProtocolError, LinkDead
from sync.protocol import Frame, Ping, Pong, ProtocolError, decode_frame, encode_frame

log = logging.getLogger(__name__)

PING = encode_frame(Ping())
PONG = encode_frame(Pong())

#: Errors that mean "the hub cannot be reached (now)": worth another attempt later.
OPEN_ERRORS = (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException)


@dataclass(slots=True)
class Traffic:
    """Bytes and frames over every connection of one client, as written to and read from the socket."""

    bytes_sent: int = 0
    bytes_received: int = 0
    frames_sent: int = 0
    frames_received: int = 0
    pings_sent: int = 0


class Connection:
    """The device side of one WebSocket."""

    def __init__(self, socket: ClientConnection, *, traffic: Traffic, clock: Callable[[], float]) -> None:
        self._socket = socket
        self._traffic = traffic
        self._clock = clock
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.last_received = clock()

    @classmethod
    async def open(cls, url: str, *, timeout: float, traffic: Traffic,
                   clock: Callable[[], float] = time.monotonic) -> Connection:
        """Connect; raises one of ``OPEN_ERRORS`` when the hub cannot be reached."""
        socket = await connect(
            url,
            open_timeout=timeout,
            ping_interval=None,  # the heartbeat is the protocol's own Ping/Pong, which the hub answers
            close_timeout=2,
            max_size=None,  # the hub bounds its frames; a large step 2 must not kill the link
            compression=None,  # the hub does not negotiate it; counted bytes are bytes on the wire
            proxy=None,
        )
        return cls(socket, traffic=traffic, clock=clock)

    @property
    def close_code(self) -> int | None:
        return self._socket.close_code

    @property
    def close_reason(self) -> str:
        return self._socket.close_reason or ""

    def send(self, frame: Frame | bytes) -> None:
        """Queue one frame; frames leave in the order they were queued."""
        self._queue.put_nowait(frame if isinstance(frame, bytes) else encode_frame(frame))

    async def serve(self, handle: Callable[[Frame], Awaitable[None]]) -> None:
        """Read frames and hand each to ``handle`` (one at a time, in order) until the socket closes."""
        writer = asyncio.create_task(self._write_loop(), name="fieldsync-writer")
        try:
            async for data in self._socket:
                self.last_received = self._clock()
                self._traffic.frames_received += 1
                self._traffic.bytes_received += len(data)
                if isinstance(data, str):
                    raise HubProtocolError("the hub sent a text frame")
                try:
                    frame = decode_frame(data)
                except ProtocolError as exc:
                    raise HubProtocolError(f"undecodable frame from the hub: {exc}") from exc
                if isinstance(frame, Ping):
                    self.send(PONG)
                elif not isinstance(frame, Pong):
                    await handle(frame)
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    async def _write_loop(self) -> None:
        try:
            while True:
                data = await self._queue.get()
                await self._socket.send(data)
                self._traffic.frames_sent += 1
                self._traffic.bytes_sent += len(data)
                if data == PING:
                    self._traffic.pings_sent += 1
        except websockets.exceptions.ConnectionClosed:
            pass  # the reader sees the close too and ends the connection

    async def heartbeat(self, interval: float, timeout: float) -> None:
        """Ping after ``interval`` seconds of silence; raise ``LinkDead`` after ``timeout`` seconds of it."""
        tick = min(1.0, interval / 4)
        pinged_at: float | None = None
        while True:
            await asyncio.sleep(tick)
            now = self._clock()
            silent = now - self.last_received
            if silent >= timeout:
                raise LinkDead(f"nothing received from the hub for {silent:.1f} s")
            if silent >= interval and (pinged_at is None or now - pinged_at >= interval):
                self.send(PING)
                pinged_at = now

    def abort(self) -> None:
        """Drop the TCP connection without a closing handshake (the link is dead anyway)."""
        transport = self._socket.transport
        if transport is not None:
            transport.abort()

    async def close(self) -> None:
        """Close normally (1000), giving the hub a moment to answer."""
        try:
            await asyncio.wait_for(self._socket.close(), 3)
        except (asyncio.TimeoutError, OSError):
            self.abort()
