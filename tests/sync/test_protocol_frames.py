"""Frame structs, decode_frame and encode_frame."""

from __future__ import annotations

from typing import get_args

import pycrdt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.protocol.codes import CloseCode, ErrorCode
from sync.errors import ProtocolError
from sync.protocol import (
    Authenticated,
    AuthToken,
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
from sync.protocol.lib0 import write_var_string

# Computed by hand from the layout: varString(document), varUint(type), payload.
GOLDEN: list[tuple[Frame, bytes]] = [
    (Sync("a", SyncStep.STEP1, b"\x00"), b"\x01a\x00\x00\x01\x00"),
    (Sync("a", SyncStep.STEP2, b"\x01\x02"), b"\x01a\x00\x01\x02\x01\x02"),
    (Sync("doc", SyncStep.UPDATE, b"xyz"), b"\x03doc\x00\x02\x03xyz"),
    (Sync("a", SyncStep.STEP1, b"\x00", reply=True), b"\x01a\x04\x00\x01\x00"),
    (Sync("a", SyncStep.STEP2, b"", reply=True), b"\x01a\x04\x01\x00"),
    (Sync("a", SyncStep.UPDATE, b"\xee" * 200), b"\x01a\x00\x02\xc8\x01" + b"\xee" * 200),
    (Awareness("a", b"\x00"), b"\x01a\x01\x01\x00"),
    (AuthToken("a", "t0k"), b"\x01a\x02\x00\x03t0k"),
    (AuthToken("a", ""), b"\x01a\x02\x00\x00"),
    (PermissionDenied("a", "no"), b"\x01a\x02\x01\x02no"),
    (Authenticated("a", "readonly"), b"\x01a\x02\x02\x08readonly"),
    (Authenticated("a", "read-write"), b"\x01a\x02\x02\x0aread-write"),
    (QueryAwareness("a"), b"\x01a\x03"),
    (QueryAwareness(""), b"\x00\x03"),
    (QueryAwareness("é"), b"\x02\xc3\xa9\x03"),
    (Stateless("a", '{"x":1}'), b'\x01a\x05\x07{"x":1}'),
    (BroadcastStateless("a", "hi"), b"\x01a\x06\x02hi"),
    (Close("a", "bye"), b"\x01a\x07\x03bye"),
    (SyncStatus("a", True), b"\x01a\x08\x01"),
    (SyncStatus("a", False), b"\x01a\x08\x00"),
    (Ping(), b"\x09"),
    (Pong(), b"\x0a"),
]


@pytest.mark.parametrize(
    ("frame", "encoded"),
    GOLDEN,
    ids=[f"{type(f).__name__}-{i}" for i, (f, _) in enumerate(GOLDEN)],
)
def test_golden_bytes(frame: Frame, encoded: bytes) -> None:
    assert encode_frame(frame) == encoded
    assert decode_frame(encoded) == frame


def test_decoded_enums_are_enum_members() -> None:
    frame = decode_frame(b"\x01a\x04\x02\x00")
    assert isinstance(frame, Sync)
    assert frame.step is SyncStep.UPDATE
    assert frame.reply is True


def test_ping_and_pong_are_bare_bytes_and_a_framed_one_is_refused() -> None:
    assert decode_frame(bytearray(b"\x09")) == Ping()
    assert decode_frame(memoryview(b"\x0a")) == Pong()
    for kind in (MessageType.PING, MessageType.PONG):
        with pytest.raises(ProtocolError, match="single byte without document name") as info:
            decode_frame(b"\x01a" + bytes((kind,)))
        assert info.value.code is ErrorCode.UNSUPPORTED_MESSAGE


def test_sync_frames_are_y_protocol_messages_after_the_name() -> None:
    doc = pycrdt.Doc()
    doc["t"] = text = pycrdt.Text()
    text += "hello"
    update = doc.get_update()
    prefix = write_var_string("wo/1")
    assert encode_sync_update("wo/1", update) == prefix + pycrdt.create_update_message(update)
    assert encode_frame(Awareness("wo/1", b"\x00")) == prefix + pycrdt.create_awareness_message(b"\x00")

    # a handshake between pycrdt docs, framed and unframed by us at every hop
    empty = pycrdt.Doc()
    step1 = encode_frame(Sync("wo/1", SyncStep.STEP1, empty.get_state()))
    assert step1 == prefix + pycrdt.create_sync_message(empty)
    assert decode_frame(step1) == Sync("wo/1", SyncStep.STEP1, empty.get_state())
    # handle_sync_message takes the message after its type byte and returns a whole message
    reply = pycrdt.handle_sync_message(step1[len(prefix) + 1 :], doc)
    assert reply is not None
    step2 = decode_frame(prefix + reply)
    assert isinstance(step2, Sync) and step2.step is SyncStep.STEP2
    assert pycrdt.handle_sync_message(encode_frame(step2)[len(prefix) + 1 :], empty) is None
    assert str(empty.get("t", type=pycrdt.Text)) == "hello"


def test_fast_paths_match_the_generic_encoder() -> None:
    long_name = "w" * 1000  # past the prefix cache's size limit
    for name in ("a", "é/日本", long_name):
        assert encode_sync_update(name, b"\x01\x02") == encode_frame(Sync(name, SyncStep.UPDATE, b"\x01\x02"))
        for applied in (True, False):
            assert encode_sync_status(name, applied) == encode_frame(SyncStatus(name, applied))
    assert decode_frame(encode_sync_status(long_name, True)) == SyncStatus(long_name, True)


def test_encode_refuses_non_frames() -> None:
    with pytest.raises(TypeError, match="not a frame"):
        encode_frame("hello")  # type: ignore[arg-type]


def test_encode_refuses_an_unknown_sync_step() -> None:
    with pytest.raises(ValueError):
        encode_frame(Sync("a", 7, b""))  # type: ignore[arg-type]


MALFORMED: list[tuple[str, bytes, ErrorCode, str]] = [
    ("empty", b"", ErrorCode.BAD_FRAME, "empty frame"),
    ("name length truncated", b"\x80", ErrorCode.BAD_FRAME, "truncated varint in document name length"),
    ("name past end", b"\x05ab", ErrorCode.BAD_FRAME, "document name length 5 runs past the end"),
    ("name too long varint", b"\xff" * 9, ErrorCode.BAD_FRAME, "longer than 8 bytes"),
    ("name invalid utf8", b"\x01\xff\x03", ErrorCode.BAD_FRAME, "document name is not valid UTF-8"),
    ("type missing", b"\x01a", ErrorCode.BAD_FRAME, "truncated varint in message type"),
    ("type truncated", b"\x01a\x80", ErrorCode.BAD_FRAME, "truncated varint in message type"),
    ("type over 2**53", b"\x01a" + b"\x80" * 7 + b"\x10", ErrorCode.BAD_FRAME, "9007199254740992 exceeds"),
    ("type varint too long", b"\x01a" + b"\x80" * 8 + b"\x01", ErrorCode.BAD_FRAME, "longer than 8 bytes"),
    ("unknown type", b"\x01a\x0b", ErrorCode.UNSUPPORTED_MESSAGE, "unknown message type 11"),
    ("unknown large type", b"\x01a\xac\x02", ErrorCode.UNSUPPORTED_MESSAGE, "unknown message type 300"),
    ("sync step missing", b"\x01a\x00", ErrorCode.BAD_FRAME, "truncated varint in sync step"),
    ("unknown sync step", b"\x01a\x00\x03\x00", ErrorCode.UNSUPPORTED_MESSAGE, "unknown sync step 3"),
    ("sync data missing", b"\x01a\x00\x02", ErrorCode.BAD_FRAME, "sync data length"),
    ("sync data past end", b"\x01a\x00\x02\x05abc", ErrorCode.BAD_FRAME, "sync data length 5 runs past"),
    ("sync trailing", b"\x01a\x00\x02\x01xyz", ErrorCode.BAD_FRAME, "2 trailing bytes after the SYNC payload"),
    ("reply trailing", b"\x01a\x04\x00\x00!", ErrorCode.BAD_FRAME, "1 trailing bytes after the SYNC_REPLY"),
    ("awareness past end", b"\x01a\x01\x09", ErrorCode.BAD_FRAME, "awareness update length 9 runs past"),
    ("auth type missing", b"\x01a\x02", ErrorCode.BAD_FRAME, "truncated varint in auth type"),
    ("unknown auth type", b"\x01a\x02\x03\x00", ErrorCode.UNSUPPORTED_MESSAGE, "unknown auth type 3"),
    ("token missing", b"\x01a\x02\x00", ErrorCode.BAD_FRAME, "token length"),
    ("token invalid utf8", b"\x01a\x02\x00\x01\x80", ErrorCode.BAD_FRAME, "token is not valid UTF-8"),
    ("scope past end", b"\x01a\x02\x02\x08read", ErrorCode.BAD_FRAME, "scope length 8 runs past"),
    ("query trailing", b"\x01a\x03\x00", ErrorCode.BAD_FRAME, "trailing bytes after the QUERY_AWARENESS"),
    ("stateless invalid utf8", b"\x01a\x05\x02\xc3\x28", ErrorCode.BAD_FRAME, "stateless payload is not valid"),
    ("broadcast missing", b"\x01a\x06", ErrorCode.BAD_FRAME, "stateless payload length"),
    ("close reason past end", b"\x01a\x07\x04bye", ErrorCode.BAD_FRAME, "close reason length 4 runs past"),
    ("sync status missing", b"\x01a\x08", ErrorCode.BAD_FRAME, "truncated varint in sync status"),
    ("sync status 2", b"\x01a\x08\x02", ErrorCode.BAD_FRAME, "sync status must be 0 or 1, got 2"),
    ("sync status trailing", b"\x01a\x08\x01\x01", ErrorCode.BAD_FRAME, "1 trailing bytes after the SYNC_STATUS"),
    ("ping with a byte after", b"\x09\x00", ErrorCode.BAD_FRAME, "document name length 9 runs past"),
]


@pytest.mark.parametrize(("data", "code", "reason"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_frames(data: bytes, code: ErrorCode, reason: str) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_frame(data)
    assert info.value.code is code
    assert reason in info.value.reason


def test_only_errors_before_the_document_name_close_the_socket() -> None:
    for data in (b"", b"\x80", b"\x05ab", b"\x01\xff"):
        with pytest.raises(ProtocolError) as info:
            decode_frame(data)
        assert info.value.close_code is CloseCode.BAD_FRAME
    for data in (b"\x01a", b"\x01a\x0b", b"\x01a\x08\x02"):
        with pytest.raises(ProtocolError) as info:
            decode_frame(data)
        assert info.value.close_code is None


def test_peek_document() -> None:
    assert peek_document(b"\x04wo/1\x00\x02\x05ab") == "wo/1"  # the rest is never parsed
    assert peek_document(b"\x02\xc3\xa9" + b"\x00" * 10_000) == "é"
    assert peek_document(b"\x00\x03") == ""
    assert peek_document(b"") is None
    assert peek_document(b"\x09") is None  # a Ping has no document
    assert peek_document(b"\x05ab") is None
    assert peek_document(b"\x01\xff") is None


# -- properties -------------------------------------------------------------------------------------

names = st.text(max_size=40)
texts = st.text(max_size=200)
blobs = st.binary(max_size=300)

frames: st.SearchStrategy[Frame] = st.one_of(
    st.builds(Sync, names, st.sampled_from(SyncStep), blobs, st.booleans()),
    st.builds(Awareness, names, blobs),
    st.builds(AuthToken, names, texts, texts),
    st.builds(PermissionDenied, names, texts),
    st.builds(Authenticated, names, st.sampled_from(["read-write", "readonly"]) | texts),
    st.builds(QueryAwareness, names),
    st.builds(Stateless, names, texts),
    st.builds(BroadcastStateless, names, texts),
    st.builds(Close, names, texts),
    st.builds(SyncStatus, names, st.booleans()),
    st.just(Ping()),
    st.just(Pong()),
)


@given(frames)
def test_round_trip(frame: Frame) -> None:
    encoded = encode_frame(frame)
    assert decode_frame(encoded) == frame
    if not isinstance(frame, (Ping, Pong)):
        assert peek_document(encoded) == frame.document


@given(frames, st.data())
def test_every_strict_prefix_is_refused(frame: Frame, data: st.DataObject) -> None:
    encoded = encode_frame(frame)
    cut = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    prefix = encoded[:cut]
    if prefix in (b"\x09", b"\x0a"):  # a document name of length 9 or 10, cut right after its length
        assert isinstance(decode_frame(prefix), (Ping, Pong))
        return
    if _optional_tail_cut(frame, prefix):
        return
    with pytest.raises(ProtocolError):
        decode_frame(prefix)


def _optional_tail_cut(frame: Frame, prefix: bytes) -> bool:
    """The prefix ends exactly where an optional tail starts (Close reason, Auth client version): it is valid."""
    if isinstance(frame, Close):
        return prefix == encode_frame(Close(frame.document, "")).removesuffix(b"\x00")
    if isinstance(frame, AuthToken) and frame.client_version:
        return prefix == encode_frame(AuthToken(frame.document, frame.token))
    return False


def test_provider_auth_with_version_and_close_without_reason_decode() -> None:
    # @hocuspocus/provider 4.x appends its version to the token and detaches with a bare Close
    assert decode_frame(b"\x01a\x02\x00\x03t0k\x054.8.0") == AuthToken("a", "t0k", "4.8.0")
    assert decode_frame(b"\x01a\x07") == Close("a", "")
    assert encode_frame(AuthToken("a", "t0k", "4.8.0")) == b"\x01a\x02\x00\x03t0k\x054.8.0"


@given(frames, st.binary(min_size=1, max_size=8))
def test_trailing_bytes_are_refused(frame: Frame, extra: bytes) -> None:
    if isinstance(frame, AuthToken) and not frame.client_version:
        frame = AuthToken(frame.document, frame.token, "4.8.0")  # else the extra bytes may read as the version
    with pytest.raises(ProtocolError):
        decode_frame(encode_frame(frame) + extra)


FRAME_TYPES = get_args(Frame)


def _decode_or_error(data: bytes) -> Frame | ProtocolError:
    """Whatever comes in, a frame comes out or a ProtocolError is raised: nothing else escapes."""
    try:
        frame = decode_frame(data)
    except ProtocolError as exc:
        return exc
    assert isinstance(frame, FRAME_TYPES)
    return frame


@given(st.binary(max_size=64))
def test_random_bytes_give_a_frame_or_a_protocol_error(data: bytes) -> None:
    result = _decode_or_error(data)
    if not isinstance(result, ProtocolError):
        # anything accepted re-encodes to an equivalent frame (overlong varints make bytes differ)
        assert decode_frame(encode_frame(result)) == result


@given(frames, st.data())
def test_mutated_frames_give_a_frame_or_a_protocol_error(frame: Frame, data: st.DataObject) -> None:
    encoded = bytearray(encode_frame(frame))
    index = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    encoded[index] = data.draw(st.integers(min_value=0, max_value=255))
    _decode_or_error(bytes(encoded))


@given(st.sampled_from(range(11)), st.binary(max_size=32))
def test_random_payloads_for_every_type(kind: int, payload: bytes) -> None:
    _decode_or_error(b"\x03doc" + bytes((kind,)) + payload)


def test_state_vectors_decode_and_compare() -> None:
    from pycrdt import Doc, Map

    from sync.protocol import decode_state_vector

    doc = Doc()
    doc.get("record", type=Map)["a"] = 1
    vector = decode_state_vector(doc.get_state())
    assert vector == {doc.client_id: 1}
    with pytest.raises(ProtocolError) as bad:
        decode_state_vector(b"\x02\x01")
    assert bad.value.code == "invalid_state_vector"
