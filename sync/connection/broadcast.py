"""A client's BroadcastStateless: relayed to the document's subscribers, never in the hub's voice.

It goes out as a Stateless frame carrying the payload unchanged, as Hocuspocus relays it (a stock
``@hocuspocus/provider`` receives only Stateless and hands the payload to its ``stateless`` event). Our
own control messages travel in that same frame type, so a payload that could be read as one of them (a
JSON object whose ``type`` names a control message, such as a forged ``rate_limited`` error notice) is
refused and never relayed; and only a read-write connection may broadcast at all.
"""

from __future__ import annotations

from sync.connection.link import Link
from sync.connection.replies import Replies
from sync.documents.room import Room
from sync.errors import AuthError, ProtocolError
from sync.protocol import Stateless, encode_frame
from sync.protocol.codes import ErrorCode
from sync.protocol.control import is_control_shaped

__all__ = ["relay_broadcast"]


def relay_broadcast(link: Link, room: Room, payload: str, replies: Replies) -> None:
    """Relay ``payload`` to every subscriber of ``room`` (the sender included), or refuse it with a notice."""
    if not link.writable:
        replies.notice(link.name, AuthError(ErrorCode.READONLY, "a readonly connection may not broadcast"))
        return
    if is_control_shaped(payload):
        replies.notice(link.name, ProtocolError(
            ErrorCode.RESERVED_MESSAGE, "a broadcast may not take the shape of the hub's control messages"))
        return
    room.broadcast(encode_frame(Stateless(link.name, payload)))
