"""Strict lib0 primitives: variable-length integers, strings and byte arrays.

lib0 (the encoding library under Yjs) writes a varUint as little-endian base-128 groups, the high bit of
each byte meaning "more follows"; a varString or varUint8Array is a varUint byte length and the bytes.
pycrdt ships a decoder for this, but it trips ``assert`` or raises bare ``RuntimeError``/``IndexError`` on
bad input. The hub reads untrusted bytes, so this reader turns every malformed input into a
:class:`~sync.protocol.errors.ProtocolError`.
"""

from __future__ import annotations

from typing import Union

from sync.protocol.codes import ErrorCode
from sync.protocol.errors import ProtocolError

__all__ = [
    "MAX_SAFE_INTEGER",
    "MAX_VAR_UINT_BYTES",
    "Buffer",
    "Reader",
    "Writer",
    "write_var_bytes",
    "write_var_string",
    "write_var_uint",
]

Buffer = Union[bytes, bytearray, memoryview]

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest varUint accepted: lib0 decodes into a JavaScript number and refuses anything past this."""

MAX_VAR_UINT_BYTES = 8
"""Longest varUint accepted: 8 groups of 7 bits already cover :data:`MAX_SAFE_INTEGER`."""

# One-byte encodings are by far the most common (message types, steps, short lengths).
_SMALL = tuple(bytes((n,)) for n in range(0x80))


class Reader:
    """A cursor over one buffer; every read either returns a value or raises ``ProtocolError``.

    ``error_code`` is the code carried by those errors, so a payload codec (awareness, say) can report
    its own code while sharing the primitives. Overlong varUints (``b"\\x80\\x00"`` for 0) are accepted,
    as lib0 accepts them.
    """

    __slots__ = ("_data", "_pos", "_code")

    def __init__(self, data: Buffer, *, error_code: ErrorCode = ErrorCode.BAD_FRAME) -> None:
        self._data = data
        self._pos = 0
        self._code = error_code

    @property
    def position(self) -> int:
        """Offset of the next unread byte."""
        return self._pos

    @property
    def remaining(self) -> int:
        """Number of unread bytes."""
        return len(self._data) - self._pos

    @property
    def at_end(self) -> bool:
        """True once every byte has been read."""
        return self._pos >= len(self._data)

    def error(self, reason: str, code: ErrorCode | None = None) -> ProtocolError:
        """Build (not raise) the error this reader reports, for callers validating decoded values."""
        return ProtocolError(code or self._code, reason)

    def read_byte(self, field: str = "byte") -> int:
        """Read one unsigned byte."""
        pos = self._pos
        if pos >= len(self._data):
            raise self.error(f"truncated {field}: frame ends at offset {pos}")
        self._pos = pos + 1
        return self._data[pos]

    def read_var_uint(self, field: str = "varint") -> int:
        """Read a varUint of at most 8 bytes and at most 2**53 - 1."""
        data = self._data
        pos = self._pos
        end = len(data)
        value = 0
        shift = 0
        for _ in range(MAX_VAR_UINT_BYTES):
            if pos >= end:
                raise self.error(f"truncated varint in {field} at offset {self._pos}")
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                if value > MAX_SAFE_INTEGER:
                    raise self.error(f"{field} {value} exceeds 2**53 - 1")
                self._pos = pos
                return value
            shift += 7
        raise self.error(f"varint in {field} at offset {self._pos} is longer than {MAX_VAR_UINT_BYTES} bytes")

    def read_var_bytes(self, field: str = "byte array") -> bytes:
        """Read a varUint length and that many bytes."""
        length = self.read_var_uint(f"{field} length")
        start = self._pos
        if length > len(self._data) - start:
            raise self.error(
                f"{field} length {length} runs past the end of the frame ({len(self._data) - start} bytes left)"
            )
        self._pos = start + length
        return bytes(self._data[start : start + length])

    def read_var_string(self, field: str = "string") -> str:
        """Read a varUint length and that many bytes of strict UTF-8."""
        raw = self.read_var_bytes(field)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.error(f"{field} is not valid UTF-8 (byte {exc.start})") from None

    def expect_end(self, what: str = "payload") -> None:
        """Refuse trailing bytes: everything must have been consumed."""
        if self._pos < len(self._data):
            raise self.error(f"{self.remaining} trailing bytes after the {what}")


def write_var_uint(value: int) -> bytes:
    """Encode ``value`` (0 ≤ value ≤ 2**53 - 1) as a varUint. Out of range is a caller bug: ValueError."""
    if 0 <= value < 0x80:
        return _SMALL[value]
    if value < 0 or value > MAX_SAFE_INTEGER:
        raise ValueError(f"varUint out of range: {value}")
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def write_var_bytes(data: Buffer) -> bytes:
    """Encode a varUint8Array: length then bytes."""
    return write_var_uint(len(data)) + bytes(data)


def write_var_string(text: str) -> bytes:
    """Encode a varString: UTF-8 byte length then bytes. Lone surrogates raise UnicodeEncodeError."""
    raw = text.encode("utf-8")
    return write_var_uint(len(raw)) + raw


class Writer:
    """An append-only buffer with the same primitives, for building a message in several steps."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def write_byte(self, value: int) -> Writer:
        """Append one unsigned byte."""
        self._buf.append(value)
        return self

    def write_var_uint(self, value: int) -> Writer:
        """Append a varUint."""
        self._buf += write_var_uint(value)
        return self

    def write_var_bytes(self, data: Buffer) -> Writer:
        """Append a varUint8Array."""
        self._buf += write_var_uint(len(data))
        self._buf += data
        return self

    def write_var_string(self, text: str) -> Writer:
        """Append a varString."""
        self._buf += write_var_string(text)
        return self

    def to_bytes(self) -> bytes:
        """The bytes written so far."""
        return bytes(self._buf)
