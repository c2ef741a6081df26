"""Per-connection counters: frames and bytes by message type, read from encoded frames."""

from __future__ import annotations

from sync.connection.traffic import KINDS, OTHER, Traffic, kind_of
from sync.protocol import AuthToken, Ping, Pong, Stateless, Sync, SyncStep, encode_frame, encode_sync_status


def test_the_kind_of_each_encoded_frame_is_its_message_type() -> None:
    assert KINDS[kind_of(encode_frame(Sync("work_order:WO-1", SyncStep.UPDATE, b"\x00\x00")))] == "sync"
    assert KINDS[kind_of(encode_frame(AuthToken("work_order:WO-1", "t")))] == "auth"
    assert KINDS[kind_of(encode_frame(Stateless("$scopes", "{}")))] == "stateless"
    assert KINDS[kind_of(encode_sync_status("work_order:WO-1", True))] == "sync_status"
    assert KINDS[kind_of(encode_frame(Ping()))] == "ping"
    assert KINDS[kind_of(encode_frame(Pong()))] == "pong"


def test_frames_that_do_not_look_like_frames_count_as_other() -> None:
    assert kind_of(b"") == OTHER
    assert kind_of(b"\x05ab") == OTHER  # the name runs past the end
    assert kind_of(b"\x01a\x63") == OTHER  # type 99
    assert kind_of(b"\x09") == KINDS.index("ping") and kind_of(b"\x63") == OTHER
    assert kind_of(bytes([200, 1]) + b"x" * 300) == OTHER  # a name of 128+ bytes: not read, counted as other


def test_traffic_counts_frames_and_bytes_each_way_and_the_client_version() -> None:
    traffic = Traffic()
    update = encode_frame(Sync("work_order:WO-1", SyncStep.UPDATE, b"\x00\x00"))
    traffic.received(update)
    traffic.received(update)
    traffic.sent(encode_sync_status("work_order:WO-1", True))
    assert traffic.frames_in[KINDS.index("sync")] == 2 and traffic.bytes_in[KINDS.index("sync")] == 2 * len(update)
    assert traffic.received_frames == 2 and sum(traffic.frames_out) == 1 and traffic.frames_out[KINDS.index("sync_status")] == 1
    traffic.client("2.13.5")
    traffic.client("")  # a later Auth without a version keeps the one seen
    assert traffic.client_version == "2.13.5"
