"""The awareness update codec, checked against pycrdt's Awareness."""

from __future__ import annotations

import json

import msgspec
import pycrdt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.protocol.codes import ErrorCode
from sync.errors import ProtocolError
from sync.protocol import AwarenessEntry, decode_awareness_update, encode_awareness_update
from sync.protocol.lib0 import write_var_bytes

GOLDEN = [
    ([], b"\x00"),
    ([AwarenessEntry(1, 2, '{"a":1}')], b'\x01\x01\x02\x07{"a":1}'),
    ([AwarenessEntry(5, 3, "null")], b"\x01\x05\x03\x04null"),
    (
        [AwarenessEntry(300, 0, "{}"), AwarenessEntry(2**32 - 1, 128, '"é"')],
        b"\x02\xac\x02\x00\x02{}\xff\xff\xff\xff\x0f\x80\x01\x04\"\xc3\xa9\"",
    ),
]


@pytest.mark.parametrize(("entries", "encoded"), GOLDEN)
def test_golden_bytes(entries: list[AwarenessEntry], encoded: bytes) -> None:
    assert encode_awareness_update(entries) == encoded
    assert decode_awareness_update(encoded) == entries


def test_removed() -> None:
    assert AwarenessEntry(1, 1, "null").removed
    assert AwarenessEntry(1, 1, " \n null\t").removed
    assert not AwarenessEntry(1, 1, "{}").removed
    assert not AwarenessEntry(1, 1, '"null"').removed


def test_agrees_with_pycrdt_awareness() -> None:
    doc = pycrdt.Doc()
    awareness = pycrdt.Awareness(doc)
    awareness.set_local_state({"user": {"name": "Jo é", "color": "#ff0"}, "cursor": None})
    theirs = awareness.encode_awareness_update([doc.client_id])

    entries = decode_awareness_update(theirs)
    assert len(entries) == 1
    entry = entries[0]
    assert entry.client_id == doc.client_id
    assert entry.clock == awareness.meta[doc.client_id]["clock"] == 1
    assert json.loads(entry.state) == awareness.get_local_state()
    assert not entry.removed
    assert encode_awareness_update(entries) == theirs

    # pycrdt applies what we encode
    peer = pycrdt.Awareness(pycrdt.Doc())
    peer.apply_awareness_update(encode_awareness_update(entries), "test")
    assert peer.states[doc.client_id] == awareness.get_local_state()

    # a client leaving is the JSON null state, and removes it on the peer
    awareness.set_local_state(None)
    (gone,) = decode_awareness_update(awareness.encode_awareness_update([doc.client_id]))
    assert gone.removed and gone.clock == 2
    peer.apply_awareness_update(encode_awareness_update([gone]), "test")
    assert doc.client_id not in peer.states


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "truncated varint in awareness client count"),
        (b"\x01", "claims 1 clients but has only 0 bytes left"),
        (b"\xff\xff\xff\x7f\x01\x01\x00", "claims 268435455 clients"),
        (b"\x02\x01\x00\x02{}", "claims 2 clients"),
        (b"\x02\x01\x00\x02{}\x02\x00", "truncated varint in awareness state length"),
        (b"\x01\x01\x80\x80", "truncated varint in awareness clock"),
        (b"\x01\x01\x00\x05{}", "awareness state length 5 runs past"),
        (b"\x01\x01\x00\x02\xc3\x28", "awareness state is not valid UTF-8"),
        (b"\x01\x07\x00\x01{", "awareness state of client 7 is not JSON"),
        (b"\x01\x07\x00\x00", "awareness state of client 7 is not JSON"),  # empty text
        (b"\x01\x07\x00\x03NaN", "is not JSON"),
        (b"\x01\x07\x00\x05{} {}", "is not JSON"),
        (b"\x01\x01\x00\x02{}\x00", "1 trailing bytes after the awareness update"),
        (b"\x01" + b"\x80" * 7 + b"\x10\x00\x02{}", "exceeds 2**53 - 1"),
    ],
)
def test_malformed_updates(data: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_awareness_update(data)
    assert info.value.code is ErrorCode.INVALID_AWARENESS
    assert reason in info.value.reason


def test_deeply_nested_state_is_refused_not_crashing() -> None:
    state = ("[" * 5000 + "]" * 5000).encode()
    data = b"\x01\x01\x00" + write_var_bytes(state)
    with pytest.raises(ProtocolError, match="nested too deeply") as info:
        decode_awareness_update(data)
    assert info.value.code is ErrorCode.INVALID_AWARENESS


def test_json_that_javascript_accepts_is_accepted_as_is() -> None:
    for state in ['{"x":1e400}', " null ", '{"a":[1,2,{"b":"\\u00e9"}]}', "12345678901234567890123"]:
        (entry,) = decode_awareness_update(encode_awareness_update([AwarenessEntry(1, 1, state)]))
        assert entry.state == state  # kept as raw text, never re-serialised


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
entries_strategy = st.lists(
    st.builds(
        AwarenessEntry,
        st.integers(min_value=0, max_value=2**53 - 1),
        st.integers(min_value=0, max_value=2**53 - 1),
        json_values.map(lambda v: msgspec.json.encode(v).decode()),
    ),
    max_size=6,
)


@given(entries_strategy)
def test_round_trip(entries: list[AwarenessEntry]) -> None:
    assert decode_awareness_update(encode_awareness_update(entries)) == entries


@given(st.binary(max_size=64))
def test_random_bytes_give_entries_or_a_protocol_error(data: bytes) -> None:
    try:
        entries = decode_awareness_update(data)
    except ProtocolError as exc:
        assert exc.code is ErrorCode.INVALID_AWARENESS
        return
    assert all(isinstance(e, AwarenessEntry) for e in entries)
