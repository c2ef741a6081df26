"""The strict lib0 reader and writer."""

from __future__ import annotations

import re

import pycrdt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.protocol.codes import ErrorCode
from sync.errors import ProtocolError
from sync.protocol.lib0 import (
    MAX_SAFE_INTEGER,
    Reader,
    Writer,
    write_var_bytes,
    write_var_string,
    write_var_uint,
)

VAR_UINTS = [
    (0, b"\x00"),
    (1, b"\x01"),
    (127, b"\x7f"),
    (128, b"\x80\x01"),
    (300, b"\xac\x02"),
    (16_383, b"\xff\x7f"),
    (16_384, b"\x80\x80\x01"),
    (2**32 - 1, b"\xff\xff\xff\xff\x0f"),
    (MAX_SAFE_INTEGER, b"\xff\xff\xff\xff\xff\xff\xff\x0f"),
]


@pytest.mark.parametrize(("value", "encoded"), VAR_UINTS)
def test_var_uint_golden(value: int, encoded: bytes) -> None:
    assert write_var_uint(value) == encoded
    r = Reader(encoded)
    assert r.read_var_uint() == value
    assert r.at_end


@pytest.mark.parametrize("value", [-1, MAX_SAFE_INTEGER + 1, 2**64])
def test_write_var_uint_out_of_range_is_a_caller_bug(value: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        write_var_uint(value)


def test_overlong_var_uint_is_accepted_like_lib0() -> None:
    r = Reader(b"\x80\x00\x81\x00")
    assert r.read_var_uint() == 0
    assert r.read_var_uint() == 1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "truncated varint"),
        (b"\x80", "truncated varint"),
        (b"\xff\xff\xff", "truncated varint"),
        (b"\xff" * 8 + b"\x01", "longer than 8 bytes"),
        (b"\x80" * 20, "longer than 8 bytes"),
        (b"\x80\x80\x80\x80\x80\x80\x80\x10", "exceeds 2**53 - 1"),  # exactly 2**53
        (b"\xff\xff\xff\xff\xff\xff\xff\x7f", "exceeds 2**53 - 1"),  # 2**56 - 1
    ],
)
def test_read_var_uint_refuses(data: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=re.escape(reason)) as info:
        Reader(data).read_var_uint()
    assert info.value.code is ErrorCode.BAD_FRAME


def test_truncated_varint_leaves_position_unchanged_and_names_the_field() -> None:
    r = Reader(b"\x01\x80")
    assert r.read_var_uint() == 1
    with pytest.raises(ProtocolError, match="truncated varint in message type at offset 1"):
        r.read_var_uint("message type")
    assert r.position == 1


def test_var_string_golden() -> None:
    assert write_var_string("") == b"\x00"
    assert write_var_string("doc") == b"\x03doc"
    assert write_var_string("é") == b"\x02\xc3\xa9"  # the length counts UTF-8 bytes, not characters
    assert write_var_string("😀") == b"\x04\xf0\x9f\x98\x80"
    r = Reader(b"\x02\xc3\xa9\x03doc\x00")
    assert [r.read_var_string(), r.read_var_string(), r.read_var_string()] == ["é", "doc", ""]
    assert r.at_end


def test_var_string_keeps_a_byte_order_mark() -> None:
    assert Reader(b"\x04\xef\xbb\xbfa").read_var_string() == "\ufeffa"


@pytest.mark.parametrize(
    "data",
    [
        b"\x01\xff",  # never valid in UTF-8
        b"\x01\xc3",  # a sequence cut short
        b"\x02\xc0\x80",  # overlong encoding of NUL
        b"\x03\xed\xa0\x80",  # a UTF-16 surrogate encoded as UTF-8
        b"\x04\xf4\x90\x80\x80",  # past U+10FFFF
    ],
)
def test_var_string_refuses_invalid_utf8(data: bytes) -> None:
    with pytest.raises(ProtocolError, match="document name is not valid UTF-8") as info:
        Reader(data).read_var_string("document name")
    assert info.value.code is ErrorCode.BAD_FRAME


def test_write_var_string_refuses_lone_surrogates() -> None:
    with pytest.raises(UnicodeEncodeError):
        write_var_string("\ud800")


def test_var_bytes() -> None:
    assert write_var_bytes(b"") == b"\x00"
    assert write_var_bytes(b"\x00\xff") == b"\x02\x00\xff"
    big = bytes(range(256)) * 2
    assert write_var_bytes(big) == b"\x80\x04" + big
    r = Reader(b"\x02\x00\xff\x00")
    assert r.read_var_bytes() == b"\x00\xff"
    assert r.read_var_bytes() == b""
    assert r.at_end


def test_var_bytes_length_past_the_end() -> None:
    r = Reader(b"\x05abc")
    with pytest.raises(ProtocolError, match="length 5 runs past the end of the frame \\(3 bytes left\\)"):
        r.read_var_bytes()


def test_read_byte_and_cursor() -> None:
    r = Reader(memoryview(b"\x09\x0a"))
    assert (r.position, r.remaining, r.at_end) == (0, 2, False)
    assert r.read_byte() == 9
    assert r.read_byte() == 10
    assert (r.position, r.remaining, r.at_end) == (2, 0, True)
    with pytest.raises(ProtocolError, match="truncated byte"):
        r.read_byte()


def test_expect_end() -> None:
    r = Reader(b"\x01\x02\x03")
    r.read_var_uint()
    with pytest.raises(ProtocolError, match="2 trailing bytes after the SYNC payload"):
        r.expect_end("SYNC payload")
    r.read_var_uint()
    r.read_var_uint()
    r.expect_end()


def test_error_code_is_configurable() -> None:
    r = Reader(b"\x80", error_code=ErrorCode.INVALID_AWARENESS)
    with pytest.raises(ProtocolError) as info:
        r.read_var_uint()
    assert info.value.code is ErrorCode.INVALID_AWARENESS
    assert r.error("x", ErrorCode.UNSUPPORTED_MESSAGE).code is ErrorCode.UNSUPPORTED_MESSAGE


def test_writer_matches_the_functions() -> None:
    w = Writer().write_var_uint(300).write_var_string("é").write_var_bytes(b"\x01").write_byte(9)
    assert w.to_bytes() == write_var_uint(300) + write_var_string("é") + write_var_bytes(b"\x01") + b"\x09"


@given(st.integers(min_value=0, max_value=MAX_SAFE_INTEGER))
def test_var_uint_round_trip_and_agrees_with_pycrdt(value: int) -> None:
    encoded = write_var_uint(value)
    assert encoded == pycrdt.write_var_uint(value)
    assert len(encoded) <= 8
    r = Reader(encoded)
    assert r.read_var_uint() == value
    assert r.at_end


@given(st.text(), st.binary())
def test_string_and_bytes_round_trip(text: str, data: bytes) -> None:
    r = Reader(write_var_string(text) + write_var_bytes(data))
    assert r.read_var_string() == text
    assert r.read_var_bytes() == data
    r.expect_end()


@given(st.binary(max_size=64), st.lists(st.sampled_from(["uint", "bytes", "string", "byte"]), max_size=8))
def test_random_input_only_raises_protocol_error(data: bytes, reads: list[str]) -> None:
    r = Reader(data)
    try:
        for read in reads:
            getattr(r, f"read_var_{read}" if read != "byte" else "read_byte")()
        r.expect_end()
    except ProtocolError:
        pass
    assert 0 <= r.position <= len(data)
