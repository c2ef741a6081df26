"""The two dialects the load generator speaks, as pure functions over bytes.

- ``hocuspocus`` (fieldsync): ``varString(document) varUint(type) payload``, Auth per document, one
  ``SyncStatus`` per update the client sends. Outgoing frames are built with fieldsync's own codec
  (``sync.protocol``), once, before any clock starts.
- ``y-websocket`` (pycrdt-websocket and the raw relay): one document per socket, named by the URL path;
  plain y-protocol messages ``varUint(0 = sync) varUint(step) varUint8Array(data)``; no acknowledgements.

Receiving is the generator's hot path, so it does not decode whole frames: ``parse_hocuspocus`` and
``parse_ywebsocket`` read only the header varints they need. Every benchmark update is one map entry
written by one writer whose client id is known, so the first struct header of an update names the writer
(client id) and the update (its clock): ``UpdateId`` below. An update that merges several of one writer's
updates (a server may batch them) carries ``structs`` consecutive clocks.
"""

from __future__ import annotations

from typing import NamedTuple

from pycrdt import YMessageType, YSyncMessageType, create_update_message, write_message

from sync.protocol import AuthToken, Sync, SyncStep, encode_frame

EMPTY_UPDATE = b"\x00\x00"
EMPTY_STATE_VECTOR = b"\x00"

# what a parsed frame is
UPDATE = 0  # a Sync step 2 or update, with its first struct's client and clock
STATUS = 1  # a SyncStatus (hocuspocus only)
STEP1 = 2  # the peer's state vector: answer with a step 2
AUTHENTICATED = 3
DENIED = 4
OTHER = 5


class Parsed(NamedTuple):
    """The parts of one received frame that the generator needs."""

    kind: int
    document: str = ""
    step: int = 0
    client: int = 0
    clock: int = 0
    structs: int = 0
    applied: bool = False
    data: bytes = b""


def _var_uint(buf: bytes, pos: int) -> tuple[int, int]:
    value = 0
    shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _update_header(buf: bytes, pos: int) -> tuple[int, int, int]:
    """(client, first clock, struct count) of the first client in a v1 update at ``pos``; zeros if empty."""
    clients, pos = _var_uint(buf, pos)
    if clients == 0:
        return 0, 0, 0
    structs, pos = _var_uint(buf, pos)
    client, pos = _var_uint(buf, pos)
    clock, pos = _var_uint(buf, pos)
    return client, clock, structs


def _sync(document: str, buf: bytes, pos: int, keep_data: bool) -> Parsed:
    step = buf[pos]
    size, start = _var_uint(buf, pos + 1)
    if step == 0:
        return Parsed(STEP1, document, 0, data=buf[start:start + size])
    client, clock, structs = _update_header(buf, start)
    return Parsed(UPDATE, document, step, client, clock, structs, data=buf[start:start + size] if keep_data else b"")


def parse_hocuspocus(buf: bytes, keep_data: bool = False) -> Parsed:
    """One hub frame. ``keep_data`` copies the update bytes out (catch-up needs them, fan-out does not)."""
    if len(buf) == 1:
        return Parsed(OTHER)  # Ping / Pong
    size, pos = _var_uint(buf, 0)
    document = buf[pos:pos + size].decode()
    pos += size
    kind = buf[pos]
    if kind == 0 or kind == 4:
        return _sync(document, buf, pos + 1, keep_data)
    if kind == 8:
        return Parsed(STATUS, document, applied=buf[pos + 1] == 1)
    if kind == 2:
        auth = buf[pos + 1]
        return Parsed(AUTHENTICATED if auth == 2 else DENIED, document)
    return Parsed(OTHER, document)


def parse_ywebsocket(buf: bytes, keep_data: bool = False) -> Parsed:
    """One y-protocol message (the document is the socket's)."""
    if buf and buf[0] == 0:
        return _sync("", buf, 1, keep_data)
    return Parsed(OTHER)


# -- outgoing frames (built before the clock starts) -------------------------------------------------


def hp_auth(document: str, token: str) -> bytes:
    return encode_frame(AuthToken(document, token))


def hp_step1(document: str, state_vector: bytes = EMPTY_STATE_VECTOR) -> bytes:
    return encode_frame(Sync(document, SyncStep.STEP1, state_vector))


def hp_step2(document: str, update: bytes = EMPTY_UPDATE) -> bytes:
    return encode_frame(Sync(document, SyncStep.STEP2, update))


def hp_update(document: str, update: bytes) -> bytes:
    return encode_frame(Sync(document, SyncStep.UPDATE, update))


def yw_step1(state_vector: bytes = EMPTY_STATE_VECTOR) -> bytes:
    return bytes((YMessageType.SYNC, YSyncMessageType.SYNC_STEP1)) + write_message(state_vector)


def yw_step2(update: bytes = EMPTY_UPDATE) -> bytes:
    return bytes((YMessageType.SYNC, YSyncMessageType.SYNC_STEP2)) + write_message(update)


def yw_update(update: bytes) -> bytes:
    return create_update_message(update)
