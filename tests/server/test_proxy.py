"""The round-robin proxy: connections spread over the nodes, dead nodes skipped, bytes copied both ways."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from server.proxy import RoundRobinProxy


@asynccontextmanager
async def echo_server(tag: bytes) -> AsyncIterator[int]:
    """A TCP server answering each line with ``tag`` and the line."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            writer.write(tag + b":" + line)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def ask(port: int, line: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(line + b"\n")
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connections_go_to_each_node_in_turn() -> None:
    async with echo_server(b"a") as a, echo_server(b"b") as b:
        proxy = RoundRobinProxy([("127.0.0.1", a), ("127.0.0.1", b)])
        await proxy.start()
        try:
            answers = [await ask(proxy.port, f"hello {i}".encode()) for i in range(4)]
        finally:
            await proxy.close()
    assert answers == [b"a:hello 0\n", b"b:hello 1\n", b"a:hello 2\n", b"b:hello 3\n"]
    assert proxy.accepted == [2, 2]


async def test_a_node_that_refuses_connections_is_skipped() -> None:
    async with echo_server(b"live") as live:
        proxy = RoundRobinProxy([("127.0.0.1", free_port()), ("127.0.0.1", live)])
        await proxy.start()
        try:
            answers = [await ask(proxy.port, b"x") for _ in range(3)]
        finally:
            await proxy.close()
    assert answers == [b"live:x\n"] * 3


async def test_with_every_node_down_the_client_is_disconnected() -> None:
    proxy = RoundRobinProxy([("127.0.0.1", free_port())])
    await proxy.start()
    try:
        assert await ask(proxy.port, b"anyone?") == b""
    finally:
        await proxy.close()


def test_a_proxy_needs_a_node() -> None:
    with pytest.raises(ValueError):
        RoundRobinProxy([])
