"""No request costs the hub much more than it costs the sender (issue 11), measured on real hub processes.

Memory is the hub process's resident set read from /proc; every loop is bounded in count and time, and
all traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import statistics
import time

import pytest
import websockets
from pycrdt import Map

from sync.protocol import AuthToken, Stateless, Sync, SyncStep, decode_frame, encode_frame
from sync.protocol.codes import CloseCode
from tests.support.client import HubClient
from tests.support.hub import HubProcess
from tests.support.memory import MB, rss_bytes
from tests.support.stored import stored_doc

SOCKETS = 200
PER_SOCKET = 16  # frames of 64 KiB each: 1 MiB sent by each unauthenticated socket
HELD_FRAMES = 1  # what fits in the default FIELDSYNC_MAX_HELD_BYTES (128 KiB, each frame plus 64)


def hub_rss(hub: HubProcess) -> int:
    assert hub.process is not None
    return rss_bytes(hub.process.pid)


@pytest.mark.hub_env(FIELDSYNC_MAX_UNAUTHENTICATED_PER_ADDRESS=SOCKETS + 10, FIELDSYNC_AUTH_TIMEOUT_SECONDS=120)
async def test_200_unauthenticated_sockets_sending_data_hold_under_50_mb(hub: HubProcess) -> None:
    """What the hub holds once it has read everything; the transient peak while it reads is printed too."""
    before = hub_rss(hub)
    sockets = [await websockets.connect(hub.ws_url, max_size=None) for _ in range(SOCKETS)]
    peak = before
    try:
        payload = os.urandom(64 * 1024)
        for number, socket in enumerate(sockets):  # never an Auth: every frame waits for one
            for frame in range(PER_SOCKET):
                await socket.send(encode_frame(Sync(f"work_order:WO-{number}-{frame}", SyncStep.UPDATE, payload)))
            peak = max(peak, hub_rss(hub))

        async def answered(socket: websockets.ClientConnection) -> int:
            """Read the refusals of the frames the hub would not hold: then it has read them all."""
            frames = 0
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(15):
                    while True:
                        frame = decode_frame(await socket.recv())
                        frames += 1
                        if isinstance(frame, Stateless) and "queue_full" in frame.payload:
                            if frames >= 2 * (PER_SOCKET - HELD_FRAMES):
                                return frames
            return frames

        answers = await asyncio.gather(*(answered(socket) for socket in sockets))
        held = 0
        for _ in range(5):
            await asyncio.sleep(0.2)
            held = max(held, hub_rss(hub))
        sent = SOCKETS * PER_SOCKET * len(payload)
        print(f"\n{SOCKETS} sockets sent {sent / MB:.0f} MB; hub RSS {before / MB:.1f} MB before, "
              f"{held / MB:.1f} MB once read (peak while sending {peak / MB:.1f} MB)")
        assert held - before < 50 * MB
        assert all(count == 2 * (PER_SOCKET - HELD_FRAMES) for count in answers), "every frame past the limit refused"
        assert all(socket.close_code is None for socket in sockets), "refused frames, not closed sockets"
    finally:
        await asyncio.gather(*(socket.close() for socket in sockets))
    async with HubClient.connect(hub.ws_url) as client:  # the hub still serves
        await client.open("work_order:WO-1-1", hub.token())
        assert await client.set_fields("work_order:WO-1-1", {"phase": "OPEN"})
    doc, log_length = await stored_doc(hub.database_url, "acme", "work_order:WO-1-1")
    assert log_length == 1, "nothing held before Auth was stored"


@pytest.mark.hub_env(FIELDSYNC_MAX_UNAUTHENTICATED_PER_ADDRESS=5)
async def test_unauthenticated_sockets_per_address_are_capped_with_4429(hub: HubProcess) -> None:
    sockets = [await websockets.connect(hub.ws_url) for _ in range(5)]
    try:
        async with HubClient.connect(hub.ws_url) as sixth:
            assert await sixth.wait_closed() == CloseCode.TOO_MANY_CONNECTIONS
            assert sixth.close_reason.startswith("too_many_connections")
        await sockets[0].close()  # one leaves: its place is free
        await asyncio.sleep(0.2)
        async with HubClient.connect(hub.ws_url) as client:  # and once this one authenticates, another is
            await client.open("work_order:WO-1", hub.token())
            async with HubClient.connect(hub.ws_url) as next_one:
                await next_one.open("work_order:WO-2", hub.token(device="d2"))
                assert next_one.close_code is None
    finally:
        await asyncio.gather(*(socket.close() for socket in sockets))


async def closed_by_peer(reader: asyncio.StreamReader, timeout: float) -> bytes:
    """What the hub sent before closing; a reset (its close while our bytes were unread) is a close too."""
    try:
        return await asyncio.wait_for(reader.read(), timeout)
    except ConnectionResetError:
        return b""


@pytest.mark.hub_env(FIELDSYNC_HANDSHAKE_TIMEOUT_SECONDS=1)
async def test_a_half_sent_upgrade_is_dropped(hub: HubProcess) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)
    try:
        writer.write(b"GET /sync HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")  # and never the rest
        await writer.drain()
        started = time.monotonic()
        assert await closed_by_peer(reader, 10) == b"", "the hub closed the connection"
        assert time.monotonic() - started < 5
    finally:
        writer.close()


async def read_response(reader: asyncio.StreamReader) -> bytes:
    """One whole HTTP response: its head, then the body its Content-Length announces."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return head + await reader.readexactly(int(length.group(1)) if length else 0)


KEEP_ALIVE = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"
#: A request whose body never finishes arriving: an anonymous caller's body is read before its token is checked.
DRIBBLED_BODY = (b"POST /admin/documents/compact HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 4096\r\n\r\n{\"document\": \"", b"x")


@pytest.mark.parametrize(("answered", "request_start", "dribble"), [
    pytest.param(KEEP_ALIVE, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-Slow: still coming\r\n",
                 id="next-request-headers"),
    pytest.param(KEEP_ALIVE, *DRIBBLED_BODY, id="next-request-body"),
    pytest.param(b"", *DRIBBLED_BODY, id="first-request-body"),
])
@pytest.mark.hub_env(FIELDSYNC_HANDSHAKE_TIMEOUT_SECONDS=1)
async def test_a_request_dribbled_on_an_http_connection_is_dropped(
    hub: HubProcess, answered: bytes, request_start: bytes, dribble: bytes
) -> None:
    """Every request, not only a connection's first, must arrive whole (body included) within the timeout."""
    reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)
    try:
        if answered:  # a request answered in full: the connection is kept alive for the next one
            writer.write(answered)
            await writer.drain()
            assert (await asyncio.wait_for(read_response(reader), 10)).startswith(b"HTTP/1.1 200")
        writer.write(request_start)
        await writer.drain()
        started = time.monotonic()

        async def trickle() -> None:
            with contextlib.suppress(ConnectionError):
                for _ in range(40):
                    await asyncio.sleep(0.25)
                    writer.write(dribble)
                    await writer.drain()

        trickling = asyncio.create_task(trickle())
        try:
            assert await closed_by_peer(reader, 15) == b"", "the hub closed the connection unanswered"
        finally:
            trickling.cancel()
        assert time.monotonic() - started < 3, "dropped at the timeout from the request's first byte"
    finally:
        writer.close()


async def ack_latencies(client: HubClient, name: str, count: int) -> list[float]:
    latencies = []
    for step in range(count):
        started = time.perf_counter()
        assert await client.set_fields(name, {"priority": f"P{step}"})
        latencies.append(time.perf_counter() - started)
    return latencies


@pytest.mark.hub_env(FIELDSYNC_MAX_DOCUMENT_BYTES=4 * MB)
async def test_an_over_limit_document_write_is_refused_and_others_stay_fast(hub_on_store: HubProcess) -> None:
    hub = hub_on_store
    big, small = "work_order:WO-BIG", "work_order:WO-SMALL"
    async with HubClient.connect(hub.ws_url) as attacker, HubClient.connect(hub.ws_url) as other:
        await attacker.open(big, hub.token(device="attacker"))
        await other.open(small, hub.token(device="other"))
        before = await ack_latencies(other, small, 20)

        async def flood() -> list[bool]:
            return [await attacker.set_fields(big, {f"blob{i}": "x" * 900_000}, timeout=30) for i in range(12)]

        flooding = asyncio.create_task(flood())
        during = await ack_latencies(other, small, 20)
        accepted = await flooding
        await attacker.wait_notice(big, "document_too_large")
    print(f"\naccepted {accepted}; ack p50 before {statistics.median(before) * 1000:.1f} ms, during "
          f"{statistics.median(during) * 1000:.1f} ms (max {max(during) * 1000:.1f} ms)")
    assert accepted[:4] == [True] * 4 and not any(accepted[5:]), "refused once the document passes 4 MB"
    assert statistics.median(during) < max(10 * statistics.median(before), 0.25)
    doc, _ = await stored_doc(hub.database_url, "acme", big)
    assert len(doc.get("record", type=Map)) <= 5, "nothing of a refused write was stored"
    async with HubClient.connect(hub.ws_url) as reader:  # the document stays readable
        synced = await reader.open(big, hub.token(device="reader", roles=("viewer",)))
        assert len(synced.get("record", type=Map)) == len(doc.get("record", type=Map))


@pytest.mark.hub_env(FIELDSYNC_SEND_QUEUE_BYTES=16 * MB, FIELDSYNC_MAX_DOCUMENT_BYTES=64 * MB)
async def test_a_reader_that_stops_reading_a_large_document_is_closed_within_the_byte_limit(hub: HubProcess) -> None:
    name = "work_order:WO-LARGE"
    async with HubClient.connect(hub.ws_url) as writer:
        await writer.open(name, hub.token(device="writer"))
        for part in range(7):  # about 6 MB
            assert await writer.set_fields(name, {f"part{part}": "x" * 900_000}, timeout=30)
        before = hub_rss(hub)
        reader = await websockets.connect(hub.ws_url, max_size=None, max_queue=1)  # it reads one frame, then stops
        try:
            await reader.send(encode_frame(AuthToken(name, hub.token(sub="boss", device="viewer-1", roles=("viewer",)))))
            for _ in range(8):  # 8 small requests, each answered with the whole document
                await reader.send(encode_frame(Sync(name, SyncStep.STEP1, b"\x00")))
            peak = before
            for step in range(24):  # others keep writing: every update is relayed to the reader too
                assert await writer.set_fields(name, {"part0": chr(ord("a") + step) * 900_000}, timeout=30)
                peak = max(peak, hub_rss(hub))
            for _ in range(10):
                await asyncio.sleep(0.1)
                peak = max(peak, hub_rss(hub))
            with contextlib.suppress(websockets.ConnectionClosed):  # now it reads: the queue was dropped, the close follows
                async with asyncio.timeout(30):
                    while True:
                        await reader.recv()
            print(f"\nhub RSS {before / MB:.1f} MB before the reader, peak {peak / MB:.1f} MB; closed with {reader.close_code}")
            assert reader.close_code == CloseCode.SLOW_CONSUMER
            assert peak - before < 16 * MB + 2 * 6.3 * MB + 20 * MB, "held about the queue's byte limit, not a copy per request"
        finally:
            await reader.close()
        assert await writer.set_fields(name, {"status": "OPEN"}), "the writer was never held up"
