"""Our own control messages, carried as JSON text in Stateless frames.

Each message is a JSON object whose ``type`` field names it. Unknown fields are ignored and new fields
always get defaults, so either side may be newer than the other. Defaulted fields are left out of the
encoded text.
"""

from __future__ import annotations

import msgspec

from sync.protocol.codes import ErrorCode
from sync.protocol.errors import ProtocolError

__all__ = [
    "SCOPES_DOCUMENT", "ControlMessage", "ErrorNotice", "Hello", "ScopeMembers", "Subscribe", "Unsubscribe",
    "decode_control", "encode_control", "is_control_shaped",
]

#: The control document that carries scope subscriptions. It is authenticated like any document (an ``Auth``
#: with the device's token first); it holds no content, and its name can never be a record's.
SCOPES_DOCUMENT = "$scopes"


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
    subscription: str | None = None
    """The ``Subscribe.id`` a refusal on the ``$scopes`` document is about."""


class Hello(
    msgspec.Struct, frozen=True, tag_field="type", tag="hello", forbid_unknown_fields=False, omit_defaults=True
):
    """Client to hub: who is speaking, for logs and compatibility decisions."""

    client: str = ""
    """Client library name."""
    version: str = ""
    """Client library version."""


class Subscribe(
    msgspec.Struct, frozen=True, tag_field="type", tag="subscribe", forbid_unknown_fields=False, omit_defaults=True
):
    """Client to hub, on ``$scopes``: follow scope ``scope`` with ``params``.

    The hub answers with a ``ScopeMembers`` carrying the same ``id``, or an ``ErrorNotice`` whose
    ``subscription`` is that ``id``. Subscribing again with the same ``id`` replaces the subscription.
    """

    id: str
    """The client's name for this subscription on this connection, echoed in every answer about it."""
    scope: str
    """A scope defined on the hub (``sync/scopes/scopes.toml``)."""
    params: dict[str, str] = {}
    """The scope's parameters; those left out take their defaults (often from the token)."""
    version: int | None = None
    """The membership version the device holds from an earlier connection; ``None`` the first time."""


class Unsubscribe(
    msgspec.Struct, frozen=True, tag_field="type", tag="unsubscribe", forbid_unknown_fields=False, omit_defaults=True
):
    """Client to hub, on ``$scopes``: stop the subscription ``id`` (no answer; unknown ids are ignored)."""

    id: str


class ScopeMembers(
    msgspec.Struct, frozen=True, tag_field="type", tag="scope", forbid_unknown_fields=False, omit_defaults=True
):
    """Hub to client, on ``$scopes``: the members of subscription ``id`` at ``version``.

    With ``members`` set it is the whole list (the answer to a first subscribe, or to a version too old to
    diff): the device's member set becomes exactly that. Otherwise ``added`` and ``removed`` are the
    changes since the version the device held (on resume) or since the previous message (pushed live).
    A name in ``removed`` that the device does not hold is simply ignored.
    """

    id: str
    scope: str
    params: dict[str, str]
    """Every parameter, defaults filled in."""
    version: int
    members: list[str] | None = None
    added: list[str] = []
    removed: list[str] = []


ControlMessage = ErrorNotice | Hello | Subscribe | Unsubscribe | ScopeMembers

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


#: The ``type`` of every control message: a client's broadcast carrying one of these is never relayed.
CONTROL_TYPES = frozenset(kind.__struct_config__.tag for kind in (ErrorNotice, Hello, Subscribe, Unsubscribe, ScopeMembers))


class _Tagged(msgspec.Struct, forbid_unknown_fields=False):
    type: object = None


_tagged = msgspec.json.Decoder(_Tagged)


def is_control_shaped(text: str) -> bool:
    """True when ``text`` could be read as one of our control messages: a JSON object whose ``type`` names one.

    Used to keep a client's BroadcastStateless from reaching other clients in the shape of the hub's own
    notices (a forged ``rate_limited`` would make them pause): decodable or not, such a payload is refused.
    """
    try:
        decode_control(text)
        return True
    except ProtocolError:
        pass
    try:
        return _tagged.decode(text).type in CONTROL_TYPES
    except (msgspec.DecodeError, RecursionError):
        return False
