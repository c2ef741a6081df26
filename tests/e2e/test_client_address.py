"""Which address a socket counts against (``FIELDSYNC_MAX_UNAUTHENTICATED_PER_ADDRESS``), behind a load balancer
and without one, on a real hub process.

The hub listens on 127.0.0.1. A "proxy" is a test client connecting from 127.0.0.1 with the
``X-Forwarded-For`` header a load balancer would add; a direct client connects from 127.0.0.2 (any 127/8 address
reaches the loopback interface), so the two are told apart by their peer address as in a deployment.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import websockets

from sync.protocol.codes import CloseCode
from tests.support.hub import HubProcess

PROXY = "127.0.0.1"
DIRECT = "127.0.0.2"


@contextlib.asynccontextmanager
async def sockets() -> AsyncIterator[list[websockets.ClientConnection]]:
    """Sockets opened in the block, all closed at its end."""
    opened: list[websockets.ClientConnection] = []
    try:
        yield opened
    finally:
        await asyncio.gather(*(socket.close() for socket in opened))


async def connect(hub: HubProcess, opened: list[websockets.ClientConnection], *, source: str,
                  forwarded_for: str | None = None) -> int | None:
    """Open an unauthenticated socket from ``source``; its close code if the hub closes it at once, else None."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    socket = await websockets.connect(hub.ws_url, additional_headers=headers, local_addr=(source, 0))
    opened.append(socket)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(socket.wait_closed(), 1)
    return socket.close_code


@pytest.mark.hub_env(FIELDSYNC_MAX_UNAUTHENTICATED_PER_ADDRESS=2)
async def test_without_trusted_proxies_a_forged_header_changes_nothing(hub: HubProcess) -> None:
    """The default trusts no proxy, not even one on the hub's own machine: the header is the client's word."""
    async with sockets() as opened:
        assert await connect(hub, opened, source=PROXY, forwarded_for="203.0.113.1") is None
        assert await connect(hub, opened, source=PROXY, forwarded_for="203.0.113.2") is None
        assert await connect(hub, opened, source=PROXY, forwarded_for="203.0.113.3") == CloseCode.TOO_MANY_CONNECTIONS


@pytest.mark.hub_env(FIELDSYNC_MAX_UNAUTHENTICATED_PER_ADDRESS=2, FIELDSYNC_TRUSTED_PROXIES=f"{PROXY},10.0.0.0/8",
                     FIELDSYNC_LOG_LEVEL="info")
async def test_devices_behind_a_trusted_proxy_each_get_their_own_share(hub: HubProcess) -> None:
    async with sockets() as opened:
        for device in ("198.51.100.1", "198.51.100.2"):  # two devices, each with its whole share
            for _ in range(2):
                assert await connect(hub, opened, source=PROXY, forwarded_for=device) is None
        assert await connect(hub, opened, source=PROXY, forwarded_for="198.51.100.1") == CloseCode.TOO_MANY_CONNECTIONS
        # what the device wrote itself is left of what the proxies added: the right-most untrusted address counts
        forged = "198.51.100.9, 198.51.100.2, 10.1.2.3"
        assert await connect(hub, opened, source=PROXY, forwarded_for=forged) == CloseCode.TOO_MANY_CONNECTIONS
        assert await connect(hub, opened, source=PROXY, forwarded_for="198.51.100.3") is None
        assert all(socket.close_code is None for socket in opened[:4]), "the first two of each device stay open"
    log = hub.log.read_text()
    assert '198.51.100.1:0 - "WebSocket /sync" [accepted]' in log, "the log names the device, not the proxy"
    assert '198.51.100.3:0 - "WebSocket /sync" [accepted]' in log


@pytest.mark.hub_env(FIELDSYNC_MAX_UNAUTHENTICATED_PER_ADDRESS=2, FIELDSYNC_TRUSTED_PROXIES=PROXY)
async def test_a_direct_client_forging_the_header_is_counted_by_its_own_address(hub: HubProcess) -> None:
    async with sockets() as opened:
        assert await connect(hub, opened, source=DIRECT, forwarded_for="198.51.100.1") is None
        assert await connect(hub, opened, source=DIRECT, forwarded_for="198.51.100.2") is None
        assert await connect(hub, opened, source=DIRECT, forwarded_for="198.51.100.3") == CloseCode.TOO_MANY_CONNECTIONS
        assert await connect(hub, opened, source=DIRECT) == CloseCode.TOO_MANY_CONNECTIONS
        # and it took nothing from the devices it named: behind the proxy they have their whole share
        for _ in range(2):
            assert await connect(hub, opened, source=PROXY, forwarded_for="198.51.100.1") is None
