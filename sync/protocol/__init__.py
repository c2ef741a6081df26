"""The Hocuspocus-compatible wire protocol: pure functions between bytes and messages.

Every decoding failure is a ``ProtocolError`` (re-exported here for clients that use only the codec).
"""

from __future__ import annotations

from sync.protocol.awareness import AwarenessEntry, decode_awareness_update, encode_awareness_update
from sync.protocol.control import ControlMessage, ErrorNotice, Hello, decode_control, encode_control
from sync.protocol.frames import (
    Authenticated,
    AuthToken,
    AuthType,
    Awareness,
    BroadcastStateless,
    Close,
    Frame,
    MessageType,
    PermissionDenied,
    Ping,
    Pong,
    QueryAwareness,
    Stateless,
    Sync,
    SyncStatus,
    SyncStep,
    decode_frame,
    encode_frame,
    encode_sync_status,
    encode_sync_update,
    peek_document,
)
from sync.protocol.sender import Sender
from sync.protocol.state_vector import EMPTY_STATE_VECTOR, EMPTY_UPDATE, decode_state_vector
from sync.protocol.errors import ProtocolError

__all__ = [
    "EMPTY_STATE_VECTOR",
    "EMPTY_UPDATE",
    "AuthToken",
    "AuthType",
    "Authenticated",
    "Awareness",
    "AwarenessEntry",
    "BroadcastStateless",
    "Close",
    "ControlMessage",
    "ErrorNotice",
    "Frame",
    "Hello",
    "MessageType",
    "PermissionDenied",
    "ProtocolError",
    "Ping",
    "Pong",
    "QueryAwareness",
    "Sender",
    "Stateless",
    "Sync",
    "SyncStatus",
    "SyncStep",
    "decode_awareness_update",
    "decode_control",
    "decode_frame",
    "decode_state_vector",
    "encode_awareness_update",
    "encode_control",
    "encode_frame",
    "encode_sync_status",
    "encode_sync_update",
    "peek_document",
]
