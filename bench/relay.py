"""The raw relay: the ceiling of this machine and of the load generator.

A minimal ``websockets`` server with no CRDT and no storage: every message a connection sends goes to every
other connection on the same URL path, as is. The only thing it adds is one ``b"\\x00"`` hello to each new
connection once it is registered, so that the generator knows when it may start sending (a y-websocket
server says so with its step 1; this relay has no state to send).

    python -m bench.relay --port 9000
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections import defaultdict

import websockets
from websockets.asyncio.server import ServerConnection, broadcast, serve

HELLO = b"\x00"


class Relay:
    """Connections grouped by path."""

    def __init__(self) -> None:
        self.rooms: dict[str, set[ServerConnection]] = defaultdict(set)

    async def handle(self, connection: ServerConnection) -> None:
        path = connection.request.path if connection.request else "/"
        peers = self.rooms[path]
        peers.add(connection)
        try:
            await connection.send(HELLO)
            async for message in connection:
                # broadcast() writes to every socket without waiting: no peer can hold up the others
                broadcast([peer for peer in peers if peer is not connection], message)
        except websockets.ConnectionClosed:
            pass
        finally:
            peers.discard(connection)
            if not peers:
                self.rooms.pop(path, None)


async def main(host: str, port: int) -> None:
    relay = Relay()
    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, lambda: stop.done() or stop.set_result(None))
    async with serve(relay.handle, host, port, max_size=None, compression=None, ping_interval=None,
                     backlog=4096):
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(main(args.host, args.port))
