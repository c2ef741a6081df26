"""Our own control messages, carried as JSON text in Stateless frames.

Each message is a JSON object whose ``type`` field names it. Unknown fields are ignored and new fields
always get defaults, so either side may be newer than the other. Defaulted fields are left out of the
encoded text.
"""

from __future__ import annotations

import msgspec

from sync.codes import ErrorCode
from sync.errors import ProtocolError

__all__ = ["ControlMessage", "ErrorNotice", "Hello", "decode_control", "encode_control"]


class ErrorNotice(
    msgspec.Struct, frozen=True, tag_field="type", tag="error", forbid_unknown_fields=False, omit_defaults=True
):
    """Hub to client: a request about the frame's document was refused, or a write of it was corrected.

    A correction's ``code`` is a ``conflict.ViolationCode``; the update itself was stored and acknowledged.
    """

    code: str
    """An ``ErrorCode`` value; kept a plain string so a client tolerates codes newer than itself."""
    message: str
    """Human-readable detail, for logs."""
    retry_after: float | None = None
    """Seconds to wait before retrying, when waiting helps."""
    field: str | None = None
    """The field (or list) the hub corrected, for a notice about a write it did not accept."""


class Hello(
    msgspec.Struct, frozen=True, tag_field="type", tag="hello", forbid_unknown_fields=False, omit_defaults=True
):
    """Client to hub: who is speaking, for logs and compatibility decisions."""

    client: str = ""
    """Client library name."""
    version: str = ""
    """Client library version."""


ControlMessage = ErrorNotice | Hello

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(ControlMessage)


def encode_control(msg: ControlMessage) -> str:
    """The JSON text of a control message."""
    return _encoder.encode(msg).decode("utf-8")


def decode_control(text: str) -> ControlMessage:
    """Parse and validate a control message; ``ProtocolError(INVALID_CONTROL)`` when it is not one."""
    try:
        return _decoder.decode(text)
    except msgspec.DecodeError as exc:  # ValidationError is a subclass
        raise ProtocolError(ErrorCode.INVALID_CONTROL, f"invalid control message: {exc}") from None
    except RecursionError:
        raise ProtocolError(ErrorCode.INVALID_CONTROL, "invalid control message: nested too deeply") from None
