"""Malformed and oversized input: a documented refusal each, the hub keeps serving, nothing is stored."""

from __future__ import annotations

import random

import pytest
from pycrdt import Map

from sync.protocol.codes import CloseCode
from sync.protocol import Sync, SyncStep, encode_frame
from sync.protocol.lib0 import write_var_string, write_var_uint
from tests.support.client import HubClient
from tests.support.hub import HubProcess
from tests.support.stored import record_updates, stored_doc

NAME = "policy:POL-9"
FRAME_LIMIT = 4096


async def still_serving(hub: HubProcess) -> None:
    """Another connection can still write and read."""
    async with HubClient.connect(hub.ws_url) as client:
        await client.open("policy:POL-ALIVE", hub.token(device="probe"))
        assert await client.set_fields("policy:POL-ALIVE", {"phase": "ACTIVE"})


async def assert_nothing_stored(hub: HubProcess, name: str = NAME) -> None:
    doc, log_length = await stored_doc(hub.database_url, "acme", name)
    assert log_length == 0 and doc.get("record", type=Map).to_py() == {}


@pytest.mark.hub_env(FIELDSYNC_MAX_FRAME_BYTES=FRAME_LIMIT)
async def test_oversized_frame_is_refused_for_its_document_and_the_connection_lives(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    doc, updates = record_updates(1, key="x" * (FRAME_LIMIT + 100))
    async with HubClient.connect(hub.ws_url) as client:
        await client.open(NAME, hub.token())
        assert not await client.send_update(NAME, updates[0])
        notice = await client.wait_notice(NAME, "frame_too_large")
        assert str(FRAME_LIMIT) in notice.message
        assert await client.set_fields(NAME, {"phase": "ACTIVE"}), "the connection keeps working"
    stored, _ = await stored_doc(hub.database_url, "acme", NAME)
    assert stored.get("record", type=Map).to_py() == {"phase": "ACTIVE"}


@pytest.mark.hub_env(FIELDSYNC_MAX_FRAME_BYTES=FRAME_LIMIT)
async def test_frame_over_the_transport_cap_closes_with_1009(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    async with HubClient.connect(hub.ws_url) as client:
        await client.open(NAME, hub.token())
        await client.send_raw(encode_frame(Sync(NAME, SyncStep.UPDATE, b"\x00" * (FRAME_LIMIT * 5))))
        assert await client.wait_closed() == CloseCode.MESSAGE_TOO_BIG
    await still_serving(hub)
    await assert_nothing_stored(hub)


@pytest.mark.parametrize(
    "frame",
    [b"\x80", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", b"\x05ab", b"\x02\xc3\x28\x00"],
    ids=["truncated-varint", "overlong-varint", "name-past-end", "bad-utf8"],
)
async def test_undecodable_frame_header_closes_with_bad_frame(hub_on_store: HubProcess, frame: bytes) -> None:
    hub = hub_on_store
    async with HubClient.connect(hub.ws_url) as client:
        await client.open(NAME, hub.token())
        await client.send_raw(frame)
        assert await client.wait_closed() == CloseCode.BAD_FRAME
        assert client.close_reason.startswith("bad_frame")
    await still_serving(hub)
    await assert_nothing_stored(hub)


async def test_invalid_yjs_update_is_refused_and_the_connection_lives(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    async with HubClient.connect(hub.ws_url) as client:
        await client.open(NAME, hub.token())
        assert not await client.send_update(NAME, b"\x01\x02\x03\x04")
        await client.wait_notice(NAME, "invalid_update")
        assert await client.set_fields("policy:POL-9", {"phase": "ACTIVE"})
    stored, log_length = await stored_doc(hub.database_url, "acme", NAME)
    assert log_length == 1 and stored.get("record", type=Map).to_py() == {"phase": "ACTIVE"}


async def test_unknown_type_and_trailing_bytes_get_notices_for_their_document(hub: HubProcess) -> None:
    header = write_var_string(NAME)
    async with HubClient.connect(hub.ws_url) as client:
        await client.open(NAME, hub.token())
        await client.send_raw(header + write_var_uint(42))
        await client.wait_notice(NAME, "unsupported_message")
        _, updates = record_updates(1)
        await client.send_raw(encode_frame(Sync(NAME, SyncStep.UPDATE, updates[0])) + b"junk")
        client.sent[NAME] += 1  # sent raw: count it so later acknowledgements line up
        await client.wait_notice(NAME, "bad_frame")
        assert client.statuses[NAME][-1] is False
        assert await client.set_fields(NAME, {"phase": "ACTIVE"})
    stored, log_length = await stored_doc(hub.database_url, "acme", NAME)
    assert log_length == 1


async def test_random_bytes_never_crash_the_hub_nor_store_anything(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    rng = random.Random(20261122)
    for _ in range(10):
        async with HubClient.connect(hub.ws_url) as client:
            await client.open(NAME, hub.token())
            for _ in range(30):
                if client.close_code is not None:
                    break
                try:
                    await client.send_raw(rng.randbytes(rng.randint(1, 300)))
                except Exception:  # closed by the hub: a documented close code, checked below
                    break
            if client.close_code is not None:
                assert client.close_code in {CloseCode.BAD_FRAME, CloseCode.MESSAGE_TOO_BIG}
    await still_serving(hub)
    await assert_nothing_stored(hub)


async def test_text_frames_close_with_unsupported_data(hub: HubProcess) -> None:
    async with HubClient.connect(hub.ws_url) as client:
        await client.socket.send("hello")
        assert await client.wait_closed() == CloseCode.UNSUPPORTED_DATA
