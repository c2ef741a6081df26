"""Hocuspocus frames: one struct per message, ``decode_frame``/``encode_frame`` between them and bytes.

A frame is ``varString(document)``, ``varUint(messageType)``, then a payload that depends on the type.
Ping and Pong are the exception: connection-level, a bare single byte with no document name, which the
provider recognises by ``data.length === 1``. A framed document name of length 9 or 10 with nothing after
it would be truncated anyway, so the one-byte rule is unambiguous.

A Sync frame's type byte and payload are exactly a y-protocols sync message (pycrdt's
``create_sync_message`` and friends), so the frame is the document name followed by that message.
"""

from __future__ import annotations

from enum import IntEnum
from functools import lru_cache
from typing import Callable

import msgspec

from sync.protocol.codes import CloseCode, ErrorCode
from sync.protocol.errors import ProtocolError
from sync.protocol.lib0 import Buffer, Reader, write_var_bytes, write_var_string, write_var_uint


class MessageType(IntEnum):
    """The varUint after the document name."""

    SYNC = 0
    AWARENESS = 1
    AUTH = 2
    QUERY_AWARENESS = 3
    SYNC_REPLY = 4
    STATELESS = 5
    BROADCAST_STATELESS = 6
    CLOSE = 7
    SYNC_STATUS = 8
    PING = 9
    PONG = 10


class SyncStep(IntEnum):
    """The y-protocols sync message type inside a Sync frame."""

    STEP1 = 0
    STEP2 = 1
    UPDATE = 2


class AuthType(IntEnum):
    """The varUint that opens an Auth payload."""

    TOKEN = 0
    PERMISSION_DENIED = 1
    AUTHENTICATED = 2


class Sync(msgspec.Struct, frozen=True):
    """Sync (or, with ``reply``, SyncReply): a state vector for STEP1, an update for STEP2 and UPDATE."""

    document: str
    step: SyncStep
    data: bytes
    reply: bool = False


class Awareness(msgspec.Struct, frozen=True):
    """An encoded y-protocols awareness update (see ``sync.protocol.awareness``)."""

    document: str
    data: bytes


class AuthToken(msgspec.Struct, frozen=True):
    """Client to hub: the token for one document. Hocuspocus providers append their version string."""

    document: str
    token: str
    client_version: str = ""


class PermissionDenied(msgspec.Struct, frozen=True):
    """Hub to client: access to the document refused."""

    document: str
    reason: str


class Authenticated(msgspec.Struct, frozen=True):
    """Hub to client: access granted; ``scope`` is ``"read-write"`` or ``"readonly"``."""

    document: str
    scope: str


class QueryAwareness(msgspec.Struct, frozen=True):
    """Ask for every awareness state of the document."""

    document: str


class Stateless(msgspec.Struct, frozen=True):
    """A string payload for the peer (our control messages travel here)."""

    document: str
    payload: str


class BroadcastStateless(msgspec.Struct, frozen=True):
    """A string payload for every connection on the document."""

    document: str
    payload: str


class Close(msgspec.Struct, frozen=True):
    """Hub to client: this document is closed on this connection."""

    document: str
    reason: str


class SyncStatus(msgspec.Struct, frozen=True):
    """Hub to client, one per received update or step 2: stored (``applied``) or refused."""

    document: str
    applied: bool


class Ping(msgspec.Struct, frozen=True):
    """Connection-level keepalive, the single byte 9."""


class Pong(msgspec.Struct, frozen=True):
    """Answer to a Ping, the single byte 10."""


Frame = (
    Sync | Awareness | AuthToken | PermissionDenied | Authenticated | QueryAwareness
    | Stateless | BroadcastStateless | Close | SyncStatus | Ping | Pong
)
"""Any decoded frame; dispatch on it with ``match``."""

_PING = Ping()
_PONG = Pong()
_PING_BYTES = bytes((MessageType.PING,))
_PONG_BYTES = bytes((MessageType.PONG,))


def _unsupported(kind: str, value: int) -> ProtocolError:
    return ProtocolError(ErrorCode.UNSUPPORTED_MESSAGE, f"unknown {kind} {value}")


def _decode_sync(document: str, r: Reader, reply: bool) -> Frame:
    step = r.read_var_uint("sync step")
    if step > SyncStep.UPDATE:
        raise _unsupported("sync step", step)
    return Sync(document, SyncStep(step), r.read_var_bytes("sync data"), reply)


def _decode_auth(document: str, r: Reader) -> Frame:
    kind = r.read_var_uint("auth type")
    if kind == AuthType.TOKEN:
        token = r.read_var_string("token")
        return AuthToken(document, token, "" if r.at_end else r.read_var_string("client version"))
    if kind == AuthType.PERMISSION_DENIED:
        return PermissionDenied(document, r.read_var_string("reason"))
    if kind == AuthType.AUTHENTICATED:
        return Authenticated(document, r.read_var_string("scope"))
    raise _unsupported("auth type", kind)


def _decode_sync_status(document: str, r: Reader) -> Frame:
    # The provider reads this with lib0's signed readVarInt; for 0 and 1 both encodings are one
    # identical byte, and nothing else is meaningful.
    value = r.read_var_uint("sync status")
    if value > 1:
        raise r.error(f"sync status must be 0 or 1, got {value}")
    return SyncStatus(document, value == 1)


def _bare_only(document: str, r: Reader) -> Frame:
    raise ProtocolError(ErrorCode.UNSUPPORTED_MESSAGE, "ping and pong are a single byte without document name")


_DECODERS: dict[int, Callable[[str, Reader], Frame]] = {
    MessageType.SYNC: lambda d, r: _decode_sync(d, r, False),
    MessageType.SYNC_REPLY: lambda d, r: _decode_sync(d, r, True),
    MessageType.AWARENESS: lambda d, r: Awareness(d, r.read_var_bytes("awareness update")),
    MessageType.AUTH: _decode_auth,
    MessageType.QUERY_AWARENESS: lambda d, r: QueryAwareness(d),
    MessageType.STATELESS: lambda d, r: Stateless(d, r.read_var_string("stateless payload")),
    MessageType.BROADCAST_STATELESS: lambda d, r: BroadcastStateless(d, r.read_var_string("stateless payload")),
    # providers send Close with no reason when they detach from a document
    MessageType.CLOSE: lambda d, r: Close(d, "" if r.at_end else r.read_var_string("close reason")),
    MessageType.SYNC_STATUS: _decode_sync_status,
    MessageType.PING: _bare_only,
    MessageType.PONG: _bare_only,
}


def decode_frame(data: Buffer) -> Frame:
    """Decode one binary WebSocket message, or raise ``ProtocolError``.

    Errors before the document name is known carry ``close_code=CloseCode.BAD_FRAME``: they cannot be
    answered per document. Later errors concern the document (``peek_document`` recovers its name).
    """
    if len(data) == 1:
        if data[0] == MessageType.PING:
            return _PING
        if data[0] == MessageType.PONG:
            return _PONG
    if not data:
        raise ProtocolError(ErrorCode.BAD_FRAME, "empty frame", close_code=CloseCode.BAD_FRAME)
    r = Reader(data)
    try:
        document = r.read_var_string("document name")
    except ProtocolError as exc:
        raise ProtocolError(exc.code, exc.reason, close_code=CloseCode.BAD_FRAME) from None
    kind = r.read_var_uint("message type")
    decode = _DECODERS.get(kind)
    if decode is None:
        raise _unsupported("message type", kind)
    frame = decode(document, r)
    r.expect_end(f"{MessageType(kind).name} payload")
    return frame


def peek_document(data: Buffer) -> str | None:
    """The leading document name, reading nothing else; None when it does not decode."""
    try:
        return Reader(data).read_var_string("document name")
    except ProtocolError:
        return None


_CACHED_NAME_MAX = 256


@lru_cache(maxsize=4096)
def _cached_prefix(document: str) -> bytes:
    return write_var_string(document)


def _prefix(document: str) -> bytes:
    # Hot loops send many frames to the same few documents, so the encoded name is worth keeping;
    # only short names are cached, which bounds the cache's memory.
    if len(document) > _CACHED_NAME_MAX:
        return write_var_string(document)
    return _cached_prefix(document)


def encode_sync_update(document: str, update: bytes) -> bytes:
    """A Sync/UPDATE frame, built without the generic encoder."""
    return b"".join((_prefix(document), b"\x00\x02", write_var_uint(len(update)), update))


def encode_sync_status(document: str, applied: bool) -> bytes:
    """A SyncStatus frame, built without the generic encoder."""
    return _prefix(document) + (b"\x08\x01" if applied else b"\x08\x00")


def encode_frame(frame: Frame) -> bytes:
    """Encode any frame; the inverse of ``decode_frame``."""
    match frame:
        case Ping():
            return _PING_BYTES
        case Pong():
            return _PONG_BYTES
        case SyncStatus(document=document, applied=applied):
            return encode_sync_status(document, applied)
        case Sync(document=document, step=step, data=data, reply=reply):
            kind = MessageType.SYNC_REPLY if reply else MessageType.SYNC
            body = bytes((kind, SyncStep(step))) + write_var_bytes(data)
        case Awareness(document=document, data=data):
            body = bytes((MessageType.AWARENESS,)) + write_var_bytes(data)
        case QueryAwareness(document=document):
            body = bytes((MessageType.QUERY_AWARENESS,))
        case AuthToken(document=document, token=text, client_version=version):
            body = _HEADERS[AuthToken] + write_var_string(text) + (write_var_string(version) if version else b"")
        case PermissionDenied(document=document, reason=text):
            body = _HEADERS[type(frame)] + write_var_string(text)
        case Authenticated(document=document, scope=text) | Close(document=document, reason=text):
            body = _HEADERS[type(frame)] + write_var_string(text)
        case Stateless(document=document, payload=text) | BroadcastStateless(document=document, payload=text):
            body = _HEADERS[type(frame)] + write_var_string(text)
        case _:
            raise TypeError(f"not a frame: {frame!r}")
    return _prefix(document) + body


# What follows the document name in frames whose payload is one string (all types fit in one byte).
_HEADERS: dict[type, bytes] = {
    AuthToken: bytes((MessageType.AUTH, AuthType.TOKEN)),
    PermissionDenied: bytes((MessageType.AUTH, AuthType.PERMISSION_DENIED)),
    Authenticated: bytes((MessageType.AUTH, AuthType.AUTHENTICATED)),
    Stateless: bytes((MessageType.STATELESS,)),
    BroadcastStateless: bytes((MessageType.BROADCAST_STATELESS,)),
    Close: bytes((MessageType.CLOSE,)),
}
