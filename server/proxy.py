"""A small TCP round-robin proxy, for clients that take one URL in front of several hub nodes.

Each accepted connection goes to the next node in turn; a node that refuses the connection (down,
restarting) is skipped, so a device that reconnects after its node died lands on a live one. Bytes are
copied both ways untouched (WebSocket upgrades included); when either side closes, so does the other.
It is a development and test tool: production puts a real load balancer there (see the README).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

__all__ = ["Backend", "RoundRobinProxy"]

log = logging.getLogger(__name__)

Backend = tuple[str, int]

_CONNECT_TIMEOUT = 2.0
_CHUNK = 64 * 1024


class RoundRobinProxy:
    """Listens on ``host:port`` and spreads connections over ``backends``."""

    def __init__(self, backends: Sequence[Backend], *, host: str = "127.0.0.1", port: int = 0) -> None:
        if not backends:
            raise ValueError("a proxy needs at least one backend")
        self.backends = list(backends)
        self.host = host
        self.port = port
        self._next = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        #: Connections handed to each backend, by index.
        self.accepted = [0] * len(self.backends)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            upstream = await self._connect()
            if upstream is None:
                log.warning("no backend accepted a connection")
                return
            node_reader, node_writer = upstream
            try:
                await asyncio.gather(_copy(client_reader, node_writer), _copy(node_reader, client_writer))
            finally:
                await _close(node_writer)
        finally:
            await _close(client_writer)
            self._pipes.discard(task)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """The next backend that accepts, trying each once from the current turn."""
        start, self._next = self._next, (self._next + 1) % len(self.backends)
        for step in range(len(self.backends)):
            index = (start + step) % len(self.backends)
            host, port = self.backends[index]
            try:
                connection = await asyncio.wait_for(asyncio.open_connection(host, port), _CONNECT_TIMEOUT)
            except (OSError, TimeoutError):
                continue
            self.accepted[index] += 1
            return connection
        return None


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            if writer.can_write_eof():
                writer.write_eof()  # half-close: the other direction may still be sending


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError, OSError):
        await writer.wait_closed()
