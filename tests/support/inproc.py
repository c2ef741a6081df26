"""A hub running in the test's own event loop, with in-memory sockets: for session and hub unit tests.

Everything but the socket is real: the SQLite store, the committer, the rooms. The socket is an
in-process pair of queues, which is what a WebSocket is to the session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from server.auth import JwtVerifier, mint_token
from sync.config import HubConfig
from sync.errors import ProtocolError
from sync.access import AccessRules, load_rules
from sync.hooks import Extension
from sync.hub import Hub
from sync.protocol import AuthToken, Frame, Stateless, Sync, SyncStatus, SyncStep, decode_frame, encode_frame
from sync.protocol.control import ErrorNotice, decode_control
from sync.connection.session import Session
from sync.store import SqlStore, migrate

SECRET = "in-process-test-secret-0123456789abcdef"


def token(sub: str = "u1", tenant: str = "acme", device: str = "d1", roles: tuple[str, ...] = ("technician",),
          ttl: int = 3600, teams: tuple[str, ...] = ()) -> str:
    return mint_token(SECRET, sub=sub, tenant=tenant, device=device, roles=list(roles), ttl_seconds=ttl,
                      teams=list(teams))


class MemorySocket:
    """Both ends of one socket: the test pushes frames in and reads what the session sent."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[bytes | str | None] = asyncio.Queue()
        self.received: list[Frame] = []
        self.closed: tuple[int, str] | None = None
        self.blocked = asyncio.Event()
        self.blocked.set()
        self._changed = asyncio.Condition()

    # the session's side
    async def send(self, data: bytes) -> None:
        await self.blocked.wait()
        self.received.append(decode_frame(data))
        await self._notify()

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)
        self.incoming.put_nowait(None)
        await self._notify()

    async def receive(self) -> bytes | str | None:
        return await self.incoming.get()

    # the test's side
    def push(self, frame: Frame | bytes | str) -> None:
        self.incoming.put_nowait(frame if isinstance(frame, (bytes, str)) else encode_frame(frame))

    def leave(self) -> None:
        self.incoming.put_nowait(None)

    async def wait(self, condition: Callable[[], bool], timeout: float = 5) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), timeout)

    async def wait_frame(self, kind: type, timeout: float = 5, **fields: object) -> Frame:
        def match() -> Frame | None:
            return next((f for f in self.received if isinstance(f, kind) and all(getattr(f, k) == v for k, v in fields.items())), None)
        await self.wait(lambda: match() is not None, timeout)
        frame = match()
        assert frame is not None
        return frame

    async def wait_notice(self, name: str, code: str, timeout: float = 5) -> ErrorNotice:
        def find() -> ErrorNotice | None:
            for frame in self.received:
                if isinstance(frame, Stateless) and frame.document == name:
                    try:
                        notice = decode_control(frame.payload)
                    except ProtocolError:  # a relayed application payload, not ours
                        continue
                    if isinstance(notice, ErrorNotice) and notice.code == code:
                        return notice
            return None
        await self.wait(lambda: find() is not None, timeout)
        notice = find()
        assert notice is not None
        return notice

    def statuses(self, name: str) -> list[bool]:
        return [f.applied for f in self.received if isinstance(f, SyncStatus) and f.document == name]

    async def wait_closed(self, timeout: float = 5) -> tuple[int, str]:
        await self.wait(lambda: self.closed is not None, timeout)
        assert self.closed is not None
        return self.closed

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()


class Connection:
    """A session serving one MemorySocket, running as a task of the test."""

    def __init__(self, hub: Hub) -> None:
        self.socket = MemorySocket()
        self.session = Session(hub, self.socket)
        self.task = asyncio.create_task(self.session.run(self.socket.receive))

    async def open(self, name: str, auth: str | None = None) -> None:
        self.socket.push(AuthToken(name, auth or token()))
        self.socket.push(Sync(name, SyncStep.STEP1, b"\x00"))
        await self.socket.wait_frame(Sync, document=name, step=SyncStep.STEP1)

    async def finish(self) -> None:
        self.socket.leave()
        await asyncio.wait_for(self.task, 5)


async def migrated_sqlite(path: Path) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    await migrate.upgrade(url)
    return url


#: Rules under which every writer role reaches every record: for tests about anything but access.
OPEN_ACCESS_FILE = Path(__file__).with_name("open_access.toml")
OPEN_ACCESS = load_rules(OPEN_ACCESS_FILE)


@asynccontextmanager
async def running_hub(
    tmp_path: Path, url: str | None = None, *, extensions: Sequence[Extension] = (),
    access: AccessRules = OPEN_ACCESS, **config: object,
) -> AsyncIterator[Hub]:
    """A hub on a fresh SQLite file (or ``url``); ``access`` defaults to the open rules, pass
    ``load_rules()`` to test the hub's own default rules."""
    store = SqlStore(url or await migrated_sqlite(tmp_path / "hub.db"))
    await store.start()
    hub = Hub(store, JwtVerifier(secret=SECRET), config=HubConfig(**config), extensions=extensions,  # type: ignore[arg-type]
              access=access)
    try:
        async with hub.running():
            yield hub
    finally:
        await store.close()
