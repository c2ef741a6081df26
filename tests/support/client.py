"""A small protocol-level client for tests: real WebSocket, real codec, pycrdt documents.

It keeps each opened document in sync like a Hocuspocus provider does (step 1 on open, step 2 answering
the hub's step 1, updates applied as they come) and records every SyncStatus and notice it receives.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import websockets
from pycrdt import Doc, Map

from sync.protocol import (
    Authenticated, AuthToken, Frame, PermissionDenied, Stateless, Sync, SyncStatus, SyncStep, decode_frame,
    encode_frame,
)
from sync.protocol.control import ErrorNotice, decode_control
from sync.errors import ProtocolError

class Denied(Exception):
    """The hub answered Auth with PermissionDenied."""


class HubClient:
    def __init__(self, socket: websockets.ClientConnection) -> None:
        self.socket = socket
        self.docs: dict[str, Doc] = {}
        self.statuses: dict[str, list[bool]] = defaultdict(list)
        self.sent: dict[str, int] = defaultdict(int)
        self.notices: dict[str, list[ErrorNotice]] = defaultdict(list)
        self.frames: list[Frame] = []
        self.close_code: int | None = None
        self.close_reason: str = ""
        self.bytes_sent = 0
        self.bytes_received = 0
        self._auth: dict[str, asyncio.Future[str]] = {}
        self._step2: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    @asynccontextmanager
    async def connect(cls, url: str, **kwargs: object) -> AsyncIterator[HubClient]:
        async with websockets.connect(url, max_size=None, **kwargs) as socket:
            client = cls(socket)
            try:
                yield client
            finally:
                client._reader.cancel()

    # -- sending ---------------------------------------------------------------------------------

    async def send_frame(self, frame: Frame) -> None:
        await self.send_raw(encode_frame(frame))

    async def send_raw(self, data: bytes) -> None:
        self.bytes_sent += len(data)
        await self.socket.send(data)

    async def authenticate(self, name: str, token: str, timeout: float = 10) -> str:
        """Send Auth for ``name``; returns the scope, raises Denied with the hub's reason."""
        future = self._auth[name] = asyncio.get_running_loop().create_future()
        await self.send_frame(AuthToken(name, token))
        return await asyncio.wait_for(future, timeout)

    async def open(self, name: str, token: str, *, doc: Doc | None = None, timeout: float = 10) -> Doc:
        """Authenticate and sync ``name`` both ways; local content of ``doc`` reaches the hub (acked)."""
        doc = self.docs.setdefault(name, doc or Doc())
        future = self._auth[name] = asyncio.get_running_loop().create_future()
        self._step2[name].clear()
        acked_before = len(self.statuses[name])
        self.sent[name] += 1  # our step 2 answering the hub's step 1 is acknowledged too
        await self.send_frame(AuthToken(name, token))
        await self.send_frame(Sync(name, SyncStep.STEP1, doc.get_state()))
        await asyncio.wait_for(future, timeout)
        await asyncio.wait_for(self._step2[name].wait(), timeout)
        await self.wait_acks(name, acked_before + 1, timeout)
        return doc

    async def send_update(self, name: str, update: bytes, timeout: float = 10) -> bool:
        """Send one update and wait for its SyncStatus; returns whether the hub applied it."""
        index = self.sent[name]
        self.sent[name] += 1
        await self.send_frame(Sync(name, SyncStep.UPDATE, update))
        await self.wait_acks(name, index + 1, timeout)
        return self.statuses[name][index]

    async def set_fields(self, name: str, fields: dict[str, object], timeout: float = 10) -> bool:
        doc = self.docs[name]
        updates: list[bytes] = []
        subscription = doc.observe(lambda event: updates.append(event.update))
        with doc.transaction(origin="local"):
            record = doc.get("record", type=Map)
            for key, value in fields.items():
                record[key] = value
        doc.unobserve(subscription)
        results = [await self.send_update(name, update, timeout) for update in updates]
        return all(results)

    async def pull(self, name: str, timeout: float = 10) -> Doc:
        """Ask the hub for everything ``name``'s replica lacks (a SyncReply step 1: answered by a step 2 only, so
        nothing of ours is sent or acknowledged) and apply it; the replica then holds the hub's copy as it was."""
        self._step2[name].clear()
        await self.send_frame(Sync(name, SyncStep.STEP1, self.docs[name].get_state(), reply=True))
        await asyncio.wait_for(self._step2[name].wait(), timeout)
        return self.docs[name]

    # -- waiting ---------------------------------------------------------------------------------

    async def wait_acks(self, name: str, count: int, timeout: float = 10) -> None:
        await self._wait(lambda: len(self.statuses[name]) >= count, timeout)

    async def wait_for(self, name: str, predicate: Callable[[Doc], bool], timeout: float = 10) -> Doc:
        doc = self.docs[name]
        await self._wait(lambda: predicate(doc), timeout)
        return doc

    async def wait_notice(self, name: str, code: str, timeout: float = 10) -> ErrorNotice:
        await self._wait(lambda: any(n.code == code for n in self.notices[name]), timeout)
        return next(n for n in self.notices[name] if n.code == code)

    async def wait_closed(self, timeout: float = 10) -> int | None:
        await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.close_code

    async def _wait(self, condition: Callable[[], bool], timeout: float) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), timeout)

    # -- receiving -------------------------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for data in self.socket:
                assert isinstance(data, bytes), "the hub sends binary frames only"
                self.bytes_received += len(data)
                frame = decode_frame(data)
                self.frames.append(frame)
                await self._dispatch(frame)
                async with self._changed:
                    self._changed.notify_all()
        except websockets.ConnectionClosed:
            pass
        finally:
            if self.socket.close_code is not None:
                self.close_code = self.socket.close_code
                self.close_reason = self.socket.close_reason or ""
            async with self._changed:
                self._changed.notify_all()

    async def _dispatch(self, frame: Frame) -> None:
        match frame:
            case Authenticated(document=name, scope=scope):
                future = self._auth.get(name)
                if future and not future.done():
                    future.set_result(scope)
            case PermissionDenied(document=name, reason=reason):
                future = self._auth.get(name)
                if future and not future.done():
                    future.set_exception(Denied(reason))
            case Sync(document=name, step=SyncStep.STEP1, data=state_vector):
                doc = self.docs.get(name)
                if doc is not None:
                    await self.send_frame(Sync(name, SyncStep.STEP2, doc.get_update(state_vector)))
            case Sync(document=name, step=step, data=update):
                doc = self.docs.get(name)
                if doc is not None:
                    doc.apply_update(update)
                if step is SyncStep.STEP2:
                    self._step2[name].set()
            case SyncStatus(document=name, applied=applied):
                self.statuses[name].append(applied)
            case Stateless(document=name, payload=payload):
                try:
                    message = decode_control(payload)
                except ProtocolError:  # another client's broadcast, relayed: kept in ``frames`` only
                    return
                if isinstance(message, ErrorNotice):
                    self.notices[name].append(message)
