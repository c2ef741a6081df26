"""Opening a benchmark connection on one document and bringing it to the synced state, in either dialect.

``open_document`` returns once the connection is part of the document's room and in sync: for the hub,
Authenticated, its step 2 received and our (empty) step 2 acknowledged; for pycrdt-websocket, its step 1
answered and its step 2 received; for the relay, its hello received. Everything received on the way is
counted in ``Opened.received_bytes`` (the catch-up workload reports it).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import websockets
from websockets.asyncio.client import ClientConnection, connect

from bench.servers import Target
from bench.wire import (
    AUTHENTICATED, DENIED, EMPTY_STATE_VECTOR, STATUS, STEP1, UPDATE, hp_auth, hp_step1, hp_step2,
    parse_hocuspocus, parse_ywebsocket, yw_step1, yw_step2,
)

CONNECT_TIMEOUT = 60.0


class HandshakeError(RuntimeError):
    """The server refused the document or closed the connection during the handshake."""


@dataclass
class Opened:
    """A connection in sync on its document."""

    socket: ClientConnection
    document: str
    received_bytes: int
    step2: bytes
    """The server's step 2 (what this client lacked), as received."""
    seconds: float
    """From the start of the TCP connect to the synced state."""


async def connect_socket(target: Target, document: str) -> ClientConnection:
    """A raw WebSocket to ``target`` for ``document`` (no keepalive pings; permessage-deflate offered only to a
    deflate variant of the hub, with the settings of the websockets client's default offer)."""
    compression = "deflate" if target.deflate else None
    return await connect(target.url(document), max_size=None, compression=compression, ping_interval=None,
                         open_timeout=CONNECT_TIMEOUT, close_timeout=5, max_queue=None)


async def open_document(target: Target, document: str, device: str, *, state_vector: bytes = EMPTY_STATE_VECTOR,
                        token: str | None = None) -> Opened:
    """Connect and sync ``document`` as a client that holds ``state_vector``."""
    started = time.perf_counter()
    socket = await connect_socket(target, document)
    try:
        if target.dialect == "hocuspocus":
            received, step2 = await _hocuspocus(socket, document, token or target.token(device), state_vector)
        elif target.sync:
            received, step2 = await _ywebsocket(socket, state_vector)
        else:
            received = len(await socket.recv())  # the relay's hello
            step2 = b""
    except BaseException:
        await socket.close()
        raise
    return Opened(socket, document, received, step2, time.perf_counter() - started)


async def _hocuspocus(socket: ClientConnection, document: str, token: str, state_vector: bytes) -> tuple[int, bytes]:
    await socket.send(hp_auth(document, token))
    await socket.send(hp_step1(document, state_vector))
    received = 0
    authenticated = acknowledged = False
    step2: bytes | None = None
    while not (authenticated and acknowledged and step2 is not None):
        data = await _recv(socket)
        received += len(data)
        frame = parse_hocuspocus(data, keep_data=True)
        if frame.kind == AUTHENTICATED:
            authenticated = True
        elif frame.kind == DENIED:
            raise HandshakeError(f"{document}: permission denied")
        elif frame.kind == STEP1:
            await socket.send(hp_step2(document))  # we hold nothing the hub lacks
        elif frame.kind == UPDATE and frame.step == 1:
            step2 = frame.data
        elif frame.kind == STATUS:
            if not frame.applied:
                raise HandshakeError(f"{document}: the hub refused our step 2")
            acknowledged = True
    return received, step2


async def _ywebsocket(socket: ClientConnection, state_vector: bytes) -> tuple[int, bytes]:
    await socket.send(yw_step1(state_vector))
    received = 0
    answered = False
    step2: bytes | None = None
    while not (answered and step2 is not None):
        data = await _recv(socket)
        received += len(data)
        frame = parse_ywebsocket(data, keep_data=True)
        if frame.kind == STEP1:
            await socket.send(yw_step2())
            answered = True
        elif frame.kind == UPDATE and frame.step == 1:
            step2 = frame.data
    return received, step2


async def _recv(socket: ClientConnection) -> bytes:
    try:
        data = await socket.recv()
    except websockets.ConnectionClosed as exc:
        raise HandshakeError(f"closed during the handshake: {exc}") from None
    if isinstance(data, str):
        raise HandshakeError("text frame during the handshake")
    return data


async def open_many(target: Target, requests: list[tuple[str, str]], *, concurrency: int = 50) -> list[Opened]:
    """Open (document, device) pairs, at most ``concurrency`` handshakes at a time, in order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(document: str, device: str) -> Opened:
        async with gate:
            return await open_document(target, document, device)

    tasks = [asyncio.ensure_future(one(document, device)) for document, device in requests]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await close_all([t.result() for t in tasks if t.done() and not t.cancelled() and t.exception() is None])
        raise


async def close_all(opened: list[Opened] | list[ClientConnection]) -> None:
    sockets = [o.socket if isinstance(o, Opened) else o for o in opened]
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
