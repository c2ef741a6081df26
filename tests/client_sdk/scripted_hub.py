"""A scripted stand-in for the hub: a real WebSocket server speaking ``sync.protocol`` frames, driven by the test.

It answers the way the wire contract says: ``Authenticated`` to every Auth, the hub's step 2 and step 1 to
a step 1, ``SyncStatus(true)`` to a step 2 or update (which it applies to its own copy of the document), and
on ``$scopes`` a ``ScopeMembers`` to each ``Subscribe`` (by default the whole member list of
``members[scope]`` at ``versions[scope]``). Tests change what it does through its attributes, push messages
of their own with ``push``, and read every frame it received, per connection, in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from pycrdt import Doc, Map
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from sync.protocol import (
    Authenticated, AuthToken, Close, Frame, PermissionDenied, Ping, Pong, Stateless, Sync, SyncStatus, SyncStep,
    decode_frame, encode_frame,
)
from sync.protocol.control import (
    SCOPES_DOCUMENT, ControlMessage, ScopeMembers, Subscribe, Unsubscribe, decode_control, encode_control,
)


@dataclass
class Peer:
    """One connection from a device, as the scripted hub saw it."""

    socket: ServerConnection
    frames: list[Frame] = field(default_factory=list)
    """Every frame received, in order (Ping and Pong left out)."""
    answered: int = 0
    """Frames sent to the device about documents (not ``$scopes``)."""


class ScriptedHub:
    def __init__(self) -> None:
        self.docs: dict[str, Doc] = {}
        self.members: dict[str, list[str]] = {}
        """Members per scope name, sent whole in answer to every Subscribe (unless ``answer`` says otherwise)."""
        self.versions: dict[str, int] = {}
        self.answer: Callable[[Subscribe], list[ControlMessage]] = self.full_list
        """What to send back on ``$scopes`` for one Subscribe."""
        self.subscribes: list[tuple[float, Subscribe]] = []
        """Every Subscribe received, with the loop time it came."""
        self.unsubscribes: list[Unsubscribe] = []
        self.scopes_denial: str | None = None
        """A PermissionDenied reason for every Auth of ``$scopes`` (None: authenticate it)."""
        self.hold_documents = False
        """Keep every frame about a document unanswered until ``release``."""
        self.silent: set[str] = set()
        """Documents whose updates get no SyncStatus: their outbox entries stay in flight."""
        self.peers: list[Peer] = []
        self._held: list[tuple[Peer, Frame]] = []
        self._server: Server | None = None

    # -- running -------------------------------------------------------------------------------------

    async def __aenter__(self) -> ScriptedHub:
        self._server = await serve(self._serve, "127.0.0.1", 0, compression=None, max_size=None)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/sync"

    async def drop(self) -> None:
        """Close every connection (the devices reconnect)."""
        for peer in self.peers:
            await peer.socket.close()

    # -- scripting -----------------------------------------------------------------------------------

    def seed(self, name: str, **fields: object) -> str:
        doc = self.docs.setdefault(name, Doc())
        record = doc.get("record", type=Map)
        for key, value in fields.items():
            record[key] = value
        return name

    def record(self, name: str) -> dict:
        return self.docs[name].get("record", type=Map).to_py() or {}

    def full_list(self, sub: Subscribe) -> list[ControlMessage]:
        return [ScopeMembers(id=sub.id, scope=sub.scope, params=sub.params, version=self.versions.get(sub.scope, 1),
                             members=list(self.members.get(sub.scope, [])))]

    async def push(self, message: ControlMessage) -> None:
        """Send ``message`` on ``$scopes`` to the latest connection."""
        await self.peers[-1].socket.send(encode_frame(Stateless(SCOPES_DOCUMENT, encode_control(message))))

    async def release(self) -> None:
        """Answer the held document frames, in the order they came, and stop holding."""
        self.hold_documents = False
        held, self._held = self._held, []
        for peer, frame in held:
            await self._document(peer, frame)

    # -- reading -------------------------------------------------------------------------------------

    @property
    def frames(self) -> list[Frame]:
        """Every frame of every connection."""
        return [frame for peer in self.peers for frame in peer.frames]

    def auths(self, document: str | None = None) -> list[str]:
        return [f.document for f in self.frames if isinstance(f, AuthToken) and document in (None, f.document)]

    def closed(self) -> list[str]:
        return [f.document for f in self.frames if isinstance(f, Close)]

    # -- serving -------------------------------------------------------------------------------------

    async def _serve(self, socket: ServerConnection) -> None:
        peer = Peer(socket)
        self.peers.append(peer)
        try:
            async for data in socket:
                assert isinstance(data, bytes), "the SDK sends binary frames only"
                frame = decode_frame(data)
                if isinstance(frame, Ping):
                    await socket.send(encode_frame(Pong()))
                    continue
                if isinstance(frame, Pong):
                    continue
                peer.frames.append(frame)
                if getattr(frame, "document", None) == SCOPES_DOCUMENT:
                    await self._scopes(peer, frame)
                elif self.hold_documents:
                    self._held.append((peer, frame))
                else:
                    await self._document(peer, frame)
        except ConnectionClosed:
            pass

    async def _send(self, peer: Peer, frame: Frame) -> None:
        try:
            await peer.socket.send(encode_frame(frame))
        except ConnectionClosed:
            pass

    async def _scopes(self, peer: Peer, frame: Frame) -> None:
        match frame:
            case AuthToken():
                if self.scopes_denial is not None:
                    await self._send(peer, PermissionDenied(SCOPES_DOCUMENT, self.scopes_denial))
                else:
                    await self._send(peer, Authenticated(SCOPES_DOCUMENT, "read-write"))
            case Stateless(payload=payload):
                match decode_control(payload):
                    case Subscribe() as sub:
                        self.subscribes.append((asyncio.get_running_loop().time(), sub))
                        for message in self.answer(sub):
                            await self._send(peer, Stateless(SCOPES_DOCUMENT, encode_control(message)))
                    case Unsubscribe() as unsub:
                        self.unsubscribes.append(unsub)

    async def _document(self, peer: Peer, frame: Frame) -> None:
        peer.answered += 1
        match frame:
            case AuthToken(document=name):
                await self._send(peer, Authenticated(name, "read-write"))
            case Sync(document=name, step=SyncStep.STEP1, data=vector):
                doc = self.docs.setdefault(name, Doc())
                await self._send(peer, Sync(name, SyncStep.STEP2, doc.get_update(vector)))
                await self._send(peer, Sync(name, SyncStep.STEP1, doc.get_state()))
            case Sync(document=name, data=update):
                self.docs.setdefault(name, Doc()).apply_update(update)
                if name not in self.silent:
                    await self._send(peer, SyncStatus(name, True))
            case _:
                peer.answered -= 1
