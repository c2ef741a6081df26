"""Yjs state vectors as data, and the two empty encodings every side compares against.

A state vector's byte encoding lists clients in no fixed order, so compare them decoded.
"""

from __future__ import annotations

from sync.protocol.codes import ErrorCode
from sync.protocol.lib0 import Buffer, Reader

#: The v1 update that changes nothing (no structs, empty delete set): what a step 2 to an up-to-date peer holds.
EMPTY_UPDATE = b"\x00\x00"
#: The state vector of an empty document.
EMPTY_STATE_VECTOR = b"\x00"


def decode_state_vector(data: Buffer) -> dict[int, int]:
    """``{client id: clock}`` from an encoded state vector; ProtocolError when it does not decode."""
    reader = Reader(data, error_code=ErrorCode.INVALID_STATE_VECTOR)
    count = reader.read_var_uint("client count")
    vector = {reader.read_var_uint("client"): reader.read_var_uint("clock") for _ in range(count)}
    reader.expect_end("state vector")
    return vector

