"""What permessage-deflate does to the hub's own frames: bytes on the wire, CPU per frame, memory per socket.

    .venv/bin/python -m bench.deflate [--runs 5]

The frames are those of the workloads (``bench/updates.py``, framed as the hub frames them), passed through
the permessage-deflate extension of ``websockets`` with the parameters uvicorn's ``websockets-sansio``
protocol negotiates (windows of 2^12 bytes both ways, memLevel 5, context kept between messages), one
compression context per socket as on the wire. No sockets, no server: the price of the compression alone,
to set beside the end-to-end runs of ``python -m bench --servers fieldsync-sqlite,fieldsync-sqlite-deflate``.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pycrdt import Doc
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame, Opcode

from bench.updates import catchup_updates, field_updates, small_record
from bench.wire import hp_step2, hp_update
from sync.protocol import encode_sync_status

DOCUMENT = "work_order:WO-000017"
#: uvicorn's ServerPerMessageDeflateFactory(server_max_window_bits=12, client_max_window_bits=12,
#: compress_settings={"memLevel": 5}); the client side of the same agreement decodes.
WINDOW_BITS = 12
MEM_LEVEL = 5


def server_side() -> PerMessageDeflate:
    return PerMessageDeflate(False, False, WINDOW_BITS, WINDOW_BITS, {"memLevel": MEM_LEVEL})


def client_side() -> PerMessageDeflate:
    return PerMessageDeflate(False, False, WINDOW_BITS, WINDOW_BITS, {"memLevel": MEM_LEVEL})


@dataclass(frozen=True)
class Stream:
    """Frames one socket carries in order, in one direction."""

    label: str
    frames: Sequence[bytes]


def streams() -> list[Stream]:
    merged = Doc()
    for update in catchup_updates(10_000):
        merged.apply_update(update)
    return [
        Stream("relayed updates: one writer's 200 small map edits, to one subscriber",
               [hp_update(DOCUMENT, u) for u in field_updates(1001, 200)]),
        Stream("acks: 200 SyncStatus(true)", [encode_sync_status(DOCUMENT, True)] * 200),
        Stream("a new work order (3 fields), once", [hp_update(DOCUMENT, small_record(1002))]),
        Stream("catch-up: step 2 of a document of 10,000 updates, once",
               [hp_step2(DOCUMENT, merged.get_update())]),
    ]


def _best_of(runs: int, work: Callable[[], None]) -> float:
    """Seconds of the fastest of ``runs`` (the machine is shared: the fastest is the least disturbed)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def measure(stream: Stream, runs: int) -> str:
    raw = sum(len(f) for f in stream.frames)
    encoder = server_side()
    encoded = [encoder.encode(Frame(Opcode.BINARY, f)) for f in stream.frames]
    wire = sum(len(f.data) for f in encoded)
    decoder = client_side()
    assert [bytes(decoder.decode(f).data) for f in encoded] == list(stream.frames)

    def compress() -> None:
        ext = server_side()
        for f in stream.frames:
            ext.encode(Frame(Opcode.BINARY, f))

    def decompress() -> None:
        ext = client_side()
        for f in encoded:
            ext.decode(f)

    n = len(stream.frames)
    per_compress = _best_of(runs, compress) / n * 1e6
    per_decompress = _best_of(runs, decompress) / n * 1e6
    return (f"| {stream.label} | {n} | {raw:,} | {wire:,} | {wire / raw:.2f} | {raw / n:,.0f} → {wire / n:,.0f} "
            f"| {per_compress:.1f} | {per_decompress:.1f} |")


def memory_per_socket(count: int = 200) -> float:
    """KiB zlib holds for one socket's two contexts (the compressor and the decompressor), once used."""
    frame = Frame(Opcode.BINARY, hp_update(DOCUMENT, small_record(1003)))
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = []
    for _ in range(count):
        ext = server_side()
        ext.decode(client_side().encode(frame))
        ext.encode(frame)
        kept.append(ext)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return used / count / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed passes per stream; the fastest counts")
    args = parser.parse_args(argv)
    lines = ["| frames | count | bytes | bytes deflated | ratio | per frame | compress µs/frame | "
             "inflate µs/frame |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [measure(stream, args.runs) for stream in streams()]
    kib = memory_per_socket()
    lines += ["", "Bytes are payloads; the frame header (2 bytes for these sizes, 4 for the step 2) is the same either "
              "way.", "", f"zlib memory per socket on the hub, both contexts in use: {kib:,.1f} KiB (mean over 200 "
              f"sockets; × 2,000 sockets = {kib * 2000 / 1024:,.0f} MiB)"]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
