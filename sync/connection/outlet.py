"""The sending half of a connection: one bounded queue drained by one writer task.

A room never waits for a socket: it queues. A socket that falls further behind than the configured
queue (in frames or in bytes) is closed as a slow consumer; it resyncs by state vector when it
reconnects, so nothing is lost. A large frame queued several times (one shared encoding of a document
answering several requests) is held once, so it counts once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from enum import Enum
from typing import Protocol

from sync.connection.traffic import Traffic
from sync.protocol.codes import CloseCode

log = logging.getLogger(__name__)
MAX_CLOSE_REASON = 123  # bytes: a WebSocket close frame allows no more
#: Frames at least this large are counted once however often they are queued (they may be shared).
SHARED_FRAME_BYTES = 64 * 1024


class Transport(Protocol):
    """The socket under a session."""

    async def send(self, data: bytes) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


class ConnectionState(Enum):
    """OPEN -> CLOSING (close requested, queue draining) -> CLOSED; or OPEN -> CLOSED when the peer leaves."""

    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class _CloseRequest:
    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code, self.reason = code, reason


class Outlet:
    """Queues frames for one socket and closes it, in order, without ever blocking the caller."""

    def __init__(self, transport: Transport, *, queue_limit: int, byte_limit: int = 1 << 62) -> None:
        self.transport = transport
        self.queue_limit = queue_limit
        self.byte_limit = byte_limit
        #: Bytes queued and not yet handed to the socket (each large frame once).
        self.queued_bytes = 0
        self._large: dict[int, int] = {}
        self.state = ConnectionState.OPEN
        self.close_code: int | None = None
        self.sent_recently = False
        self.traffic = Traffic()
        # a plain deque and a future only while the writer waits: the writer takes every queued frame per
        # wake-up (an asyncio.Queue costs a wake-up and a few coroutine hops per frame), and an idle
        # connection holds no asyncio.Event (about 1 KB each with its deque of waiters)
        self._queue: deque[bytes | _CloseRequest] = deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._closed: asyncio.Future[None] | None = None

    @property
    def open(self) -> bool:
        return self.state is ConnectionState.OPEN

    def send(self, frame: bytes) -> None:
        """Queue one frame (dropped once closing)."""
        if self.state is not ConnectionState.OPEN:
            return
        self._queue.append(frame)
        self._count(frame)
        self._wake()
        self.sent_recently = True
        too_many = len(self._queue) > self.queue_limit
        if too_many or (self.queued_bytes > self.byte_limit and len(self._queue) > 1):  # one frame always fits
            self.begin_close(CloseCode.SLOW_CONSUMER, "too far behind: reconnect and resync", discard_queued=True)

    def _count(self, frame: bytes) -> None:
        if len(frame) < SHARED_FRAME_BYTES:
            self.queued_bytes += len(frame)
            return
        held = self._large.get(id(frame), 0)
        self._large[id(frame)] = held + 1
        if not held:
            self.queued_bytes += len(frame)

    def _uncount(self, frame: bytes) -> None:
        if len(frame) < SHARED_FRAME_BYTES:
            self.queued_bytes -= len(frame)
            return
        held = self._large.pop(id(frame), 1) - 1
        if held:
            self._large[id(frame)] = held
        else:
            self.queued_bytes -= len(frame)

    def begin_close(self, code: int, reason: str, *, discard_queued: bool = False) -> None:
        """Close after what is queued has been sent (or at once, dropping it)."""
        if self.state is not ConnectionState.OPEN:
            return
        self.state = ConnectionState.CLOSING
        reason = reason.encode()[:MAX_CLOSE_REASON].decode(errors="ignore")
        if discard_queued:
            self._queue.clear()
            self._large.clear()
            self.queued_bytes = 0
        self._queue.append(_CloseRequest(code, reason))
        self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def close(self, code: int, reason: str) -> None:
        """Send what is queued, close with ``code`` and wait until the socket is closed."""
        self.begin_close(code, reason)
        if self.state is ConnectionState.CLOSED:
            return
        if self._closed is None:
            self._closed = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._closed)

    def peer_left(self) -> None:
        """The peer is gone: nothing more will be sent."""
        self.state = ConnectionState.CLOSED
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    async def run(self) -> None:
        """The writer loop; ends when the socket is closed."""
        queue, send, sent = self._queue, self.transport.send, self.traffic.sent
        try:
            while True:
                if not queue:
                    self._wakeup = asyncio.get_running_loop().create_future()
                    try:
                        await self._wakeup
                    finally:
                        self._wakeup = None
                    continue
                item = queue.popleft()
                if not isinstance(item, _CloseRequest):
                    self._uncount(item)
                if isinstance(item, _CloseRequest):
                    self.close_code = item.code
                    await self.transport.close(item.code, item.reason)
                    break
                sent(item)
                await send(item)
        except (OSError, RuntimeError, ConnectionError) as exc:  # the socket went away under us
            log.debug("send failed: %s", exc)
        finally:
            self.peer_left()
