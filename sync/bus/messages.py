"""What travels between hub nodes: envelopes of tagged messages, encoded with msgpack.

An ``Envelope`` is one publish: the node that sent it, its sequence number (per node, +1 per envelope, so a
receiver sees at once when envelopes were lost), and the messages, each encoded on its own. Messages form
a tagged union decoded by one decoder; a node skips a message whose tag it does not know (a newer node
sent it during a rolling upgrade) without losing the rest of the envelope or its sequence number.

Adding a kind (scope pushes, access changes, admin actions such as closing a device's sockets): a new
``Struct`` with ``tag=...`` added to ``Message``, and a ``case`` in ``BusExtension``. Fields only ever
get added, with defaults; their types never change.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "AwarenessChanged", "Envelope", "Message", "UpdateCommitted", "decode_envelope", "decode_message",
    "encode_envelope",
]


class UpdateCommitted(msgspec.Struct, frozen=True, tag="update", array_like=True):
    """A Yjs update of document ``name`` of ``tenant``, committed to the store by the sending node."""

    tenant: str
    name: str
    update: bytes
    seq: int = 0
    """Its position in the document's log (``LogEntry.seq``); 0 from a node that does not send it."""


class AwarenessChanged(msgspec.Struct, frozen=True, tag="awareness", array_like=True):
    """An awareness update (y-protocols encoding) from a client connected to the sending node."""

    tenant: str
    name: str
    update: bytes


Message = UpdateCommitted | AwarenessChanged


class Envelope(msgspec.Struct, frozen=True, array_like=True):
    """One publish of node ``node``: sequence ``seq`` (1, 2, ...) and its encoded messages (none: a heartbeat)."""

    node: str
    seq: int
    messages: list[msgspec.Raw] = []
    numbered: bool = False
    """The node numbers its updates (``UpdateCommitted.seq``); False from an older one, whose commits move no
    log position, so that a loss of its envelopes is caught up by reading every room again."""


_encoder = msgspec.msgpack.Encoder()
_envelope = msgspec.msgpack.Decoder(Envelope)
_message = msgspec.msgpack.Decoder(Message)


def encode_envelope(node: str, seq: int, messages: list[Message], *, numbered: bool = True) -> bytes:
    return _encoder.encode(Envelope(node, seq, [msgspec.Raw(_encoder.encode(m)) for m in messages], numbered))


def decode_envelope(data: bytes) -> Envelope:
    """Raises ``msgspec.DecodeError`` (a ``ValueError``) when ``data`` is not an envelope."""
    return _envelope.decode(data)


def decode_message(raw: msgspec.Raw) -> Message | None:
    """The message, or ``None`` when its kind is unknown here or it does not decode."""
    try:
        return _message.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
