"""The y-protocols awareness update: who is here, with which cursor, as JSON text per client.

Layout: ``varUint(count)``, then per client ``varUint(clientID)``, ``varUint(clock)``,
``varString(stateJSON)``, where the JSON ``null`` means the client left. The state stays raw text: the
hub relays it and only needs to know that it is JSON.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from sync.protocol.codes import ErrorCode
from sync.protocol.errors import ProtocolError
from sync.protocol.lib0 import Buffer, Reader, Writer

__all__ = ["AwarenessEntry", "decode_awareness_update", "encode_awareness_update"]

# Each entry takes at least 3 bytes (two one-byte varUints and an empty varString).
_MIN_ENTRY_BYTES = 3
_JSON_WHITESPACE = " \t\n\r"

# float_hook keeps numbers past float range valid (JSON.parse reads 1e400 as Infinity).
_json = msgspec.json.Decoder(float_hook=float)


class AwarenessEntry(msgspec.Struct, frozen=True):
    """One client's awareness state at a clock; ``state`` is JSON text, ``"null"`` once removed."""

    client_id: int
    clock: int
    state: str

    @property
    def removed(self) -> bool:
        """True when the state is JSON null: the client left."""
        return self.state.strip(_JSON_WHITESPACE) == "null"


def decode_awareness_update(data: Buffer) -> list[AwarenessEntry]:
    """Decode an awareness update strictly; ``ProtocolError(INVALID_AWARENESS)`` on anything malformed.

    Known gap: a state holding a lone UTF-16 surrogate escape (``"\\ud800"``), which JSON.parse accepts,
    is refused because msgspec refuses it.
    """
    r = Reader(data, error_code=ErrorCode.INVALID_AWARENESS)
    count = r.read_var_uint("awareness client count")
    if count * _MIN_ENTRY_BYTES > r.remaining:
        raise r.error(f"awareness update claims {count} clients but has only {r.remaining} bytes left")
    entries: list[AwarenessEntry] = []
    for _ in range(count):
        client_id = r.read_var_uint("awareness client id")
        clock = r.read_var_uint("awareness clock")
        state = r.read_var_string("awareness state")
        _check_json(state, client_id)
        entries.append(AwarenessEntry(client_id, clock, state))
    r.expect_end("awareness update")
    return entries


def encode_awareness_update(entries: Iterable[AwarenessEntry]) -> bytes:
    """Encode entries as one awareness update (states are written as given)."""
    items = list(entries)
    w = Writer().write_var_uint(len(items))
    for entry in items:
        w.write_var_uint(entry.client_id).write_var_uint(entry.clock).write_var_string(entry.state)
    return w.to_bytes()


def _check_json(state: str, client_id: int) -> None:
    try:
        _json.decode(state)
    except (msgspec.DecodeError, RecursionError) as exc:
        detail = "is nested too deeply" if isinstance(exc, RecursionError) else f"is not JSON ({exc})"
        reason = f"awareness state of client {client_id} {detail}"
        raise ProtocolError(ErrorCode.INVALID_AWARENESS, reason) from None
