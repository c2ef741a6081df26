"""The resident memory of a process, read from /proc, for tests about what a request costs the hub."""

from __future__ import annotations

from pathlib import Path

MB = 1024 * 1024


def rss_bytes(pid: int) -> int:
    """VmRSS of ``pid`` in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
