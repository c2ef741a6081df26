"""The pycrdt-websocket baseline: its ``WebsocketServer`` behind its ``ASGIServer``, under uvicorn.

It runs on the same web stack as the hub (uvicorn with the ``websockets-sansio`` protocol, no compression),
so that the comparison is between the sync engines. One document per socket, named by the URL path.

- ``--store memory``: rooms live in memory only and are kept when their last client leaves (otherwise the
  document would be gone).
- ``--store sqlite``: each room gets pycrdt-websocket's ``SQLiteYStore`` (one database file for all
  documents, as the library is designed) and is loaded from it when it is opened. Rooms are removed when
  their last client leaves (the library's default ``auto_clean_rooms``), so a later client loads the
  document from the store again: that is the cold catch-up.

    python -m bench.pycrdt_server --port 9001 --store sqlite --db /tmp/x/ystore.db
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import uvicorn
from pycrdt.store import SQLiteYStore, YDocNotFound
from pycrdt.websocket import ASGIServer, WebsocketServer, YRoom, exception_logger

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

log = logging.getLogger("bench.pycrdt_server")


def store_class(db_path: str) -> type[SQLiteYStore]:
    """The library's way to point its SQLite store at a file: a subclass with ``db_path``."""
    return type("BenchYStore", (SQLiteYStore,), {"db_path": db_path})


class SerialWebsocketServer(WebsocketServer):
    """``WebsocketServer`` that creates and starts each room once, however many clients join it at once.

    In pycrdt-websocket 0.16.5, two clients joining a new room at the same moment both start it; the second
    start waits forever for the lock the first one holds while the room runs, and that client hangs until
    the keepalive closes its socket. The benchmark's documents are joined by five clients at once, so both
    variants serialise room creation per name (a fix a deployment would need as well).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._opening: dict[str, asyncio.Lock] = {}

    async def get_room(self, name: str) -> YRoom:
        lock = self._opening.setdefault(name, asyncio.Lock())
        async with lock:
            room = self.rooms.get(name)
            if room is None:
                room = self.rooms[name] = self.new_room(name)
            await self.start_room(room)
            await self.prepare(room)
        return room

    def new_room(self, name: str) -> YRoom:
        return YRoom(ready=self.rooms_ready, exception_handler=self.exception_handler, log=self.log)

    async def prepare(self, room: YRoom) -> None:
        """Called for every join once the room runs."""


class StoredWebsocketServer(SerialWebsocketServer):
    """Rooms persisted in a ``SQLiteYStore`` and loaded from it when they are opened."""

    def __init__(self, ystore: type[SQLiteYStore], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ystore = ystore

    def new_room(self, name: str) -> YRoom:
        # ready=False: the room does not observe its document (and so does not write back to the store)
        # what is loaded from the store
        return YRoom(ready=False, ystore=self._ystore(path=name, log=self.log),
                     exception_handler=self.exception_handler, log=self.log)

    async def prepare(self, room: YRoom) -> None:
        if room.ready:
            return
        ystore = room.ystore
        assert ystore is not None and room._task_group is not None
        async with ystore.start_lock:  # the room's own task starts the store too: whichever comes first
            if not ystore.started.is_set():
                await room._task_group.start(ystore.start)
        try:
            await ystore.apply_updates(room.ydoc)
        except YDocNotFound:
            pass
        room.ready = True

    async def delete_room(self, *, name: str | None = None, room: YRoom | None = None) -> None:
        room = room if room is not None else self.rooms.get(name or "")
        await super().delete_room(name=name, room=room)
        if room is not None and room.ystore is not None and room.ystore.db_initialized is not None:
            if room.ystore.db_initialized.is_set():
                await room.ystore._db.close()


def create_store_file(ystore: type[SQLiteYStore]) -> None:
    """Create the store's database before serving.

    Every room has its own store object; on a missing file the first rooms opened at the same moment would
    each try to create the tables, and all but one fail. A deployment's file exists after its first start.
    """

    async def create() -> None:
        async with ystore(path="/") as store:
            assert store.db_initialized is not None
            await store.db_initialized.wait()

    anyio.run(create)


def build_app(websocket_server: WebsocketServer) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI app that runs ``websocket_server`` for the lifespan and serves sockets with ``ASGIServer``."""
    sockets = ASGIServer(websocket_server)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            async with websocket_server:
                while True:
                    message = await receive()
                    if message["type"] == "lifespan.startup":
                        await send({"type": "lifespan.startup.complete"})
                    elif message["type"] == "lifespan.shutdown":
                        await send({"type": "lifespan.shutdown.complete"})
                        return
        elif scope["type"] == "websocket":
            await sockets(scope, receive, send)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", choices=("memory", "sqlite"), default="memory")
    parser.add_argument("--db", help="SQLite file of the store (with --store sqlite)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.store == "sqlite":
        if not args.db:
            parser.error("--store sqlite needs --db")
        ystore = store_class(args.db)
        create_store_file(ystore)
        server: WebsocketServer = StoredWebsocketServer(ystore, exception_handler=exception_logger)
    else:
        server = SerialWebsocketServer(auto_clean_rooms=False, exception_handler=exception_logger)
    uvicorn.run(build_app(server), host=args.host, port=args.port, ws="websockets-sansio", ws_max_size=16 * 1024 * 1024,
                ws_per_message_deflate=False, lifespan="on", log_level="warning", timeout_graceful_shutdown=5)


if __name__ == "__main__":
    main()
