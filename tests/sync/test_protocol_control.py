"""Control messages carried in Stateless payloads."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.protocol.codes import ErrorCode
from sync.errors import ProtocolError
from sync.protocol import (
    ControlMessage,
    ErrorNotice,
    Hello,
    Stateless,
    decode_control,
    decode_frame,
    encode_control,
    encode_frame,
)


@pytest.mark.parametrize(
    ("msg", "text"),
    [
        (
            ErrorNotice("readonly", "this document is read-only"),
            '{"type":"error","code":"readonly","message":"this document is read-only"}',
        ),
        (
            ErrorNotice("rate_limited", "slow down", 2.5),
            '{"type":"error","code":"rate_limited","message":"slow down","retry_after":2.5}',
        ),
        (Hello(), '{"type":"hello"}'),
        (Hello("fieldsync-js", "1.2.0"), '{"type":"hello","client":"fieldsync-js","version":"1.2.0"}'),
    ],
)
def test_golden_text(msg: ControlMessage, text: str) -> None:
    assert encode_control(msg) == text
    assert decode_control(text) == msg


def test_error_code_values_travel_as_strings() -> None:
    text = encode_control(ErrorNotice(ErrorCode.QUEUE_FULL, "queue full"))
    assert '"code":"queue_full"' in text
    notice = decode_control(text)
    assert isinstance(notice, ErrorNotice) and notice.code == ErrorCode.QUEUE_FULL


def test_schema_evolution_unknown_fields_ignored_and_defaults_filled() -> None:
    assert decode_control('{"type":"hello","client":"x","capabilities":["scopes"],"extra":{"a":1}}') == Hello("x")
    assert decode_control('{"version":"2","type":"hello"}') == Hello(version="2")
    with_int = decode_control('{"type":"error","code":"c","message":"m","retry_after":3}')
    assert with_int == ErrorNotice("c", "m", 3.0)
    assert decode_control('{"type":"error","code":"c","message":"m","retry_after":null}') == ErrorNotice("c", "m")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "invalid control message"),
        ("{", "truncated"),
        ("not json", "malformed"),
        ("[]", "Expected `object`, got `array`"),
        ('"hello"', "Expected `object`, got `str`"),
        ("{}", "missing required field `type`"),
        ('{"type":"follow"}', "Invalid value 'follow'"),
        ('{"type":"subscribe","scope":"my_work_orders"}', "missing required field `id`"),
        ('{"type":"subscribe","id":"s","scope":"my_work_orders","version":"3"}', "Expected `int | null`"),
        ('{"type":7}', "Expected `str` - at `$.type`"),
        ('{"type":"error","message":"m"}', "missing required field `code`"),
        ('{"type":"error","code":1,"message":"m"}', "Expected `str`, got `int`"),
        ('{"type":"error","code":"c","message":"m","retry_after":"soon"}', "Expected `float | null`"),
        ('{"type":"hello"} trailing', "trailing characters"),
        ("[" * 5000 + "]" * 5000, "invalid control message"),
    ],
)
def test_invalid_control_messages(text: str, reason: str) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_control(text)
    assert info.value.code is ErrorCode.INVALID_CONTROL
    assert reason in info.value.reason


def test_travels_inside_a_stateless_frame() -> None:
    notice = ErrorNotice("forbidden", "no access to wo/9")
    frame = decode_frame(encode_frame(Stateless("wo/9", encode_control(notice))))
    assert isinstance(frame, Stateless)
    assert decode_control(frame.payload) == notice


messages = st.one_of(
    st.builds(
        ErrorNotice,
        st.sampled_from(list(ErrorCode)).map(str) | st.text(),
        st.text(),
        st.none() | st.floats(min_value=0, max_value=1e9, allow_nan=False),
    ),
    st.builds(Hello, st.text(), st.text()),
)


@given(messages)
def test_round_trip(msg: ControlMessage) -> None:
    assert decode_control(encode_control(msg)) == msg


@given(st.text(max_size=80))
def test_random_text_gives_a_message_or_a_protocol_error(text: str) -> None:
    try:
        msg = decode_control(text)
    except ProtocolError as exc:
        assert exc.code is ErrorCode.INVALID_CONTROL
        return
    assert isinstance(msg, (ErrorNotice, Hello))
