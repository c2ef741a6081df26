"""How the hub process asks the C allocator to give large buffers back to the system at once.

Frames arrive in buffers of tens or hundreds of kilobytes that live for a moment. glibc serves them from
its heap once its adaptive threshold has risen, and a heap fragmented by many sockets does not shrink, so
the resident size keeps the high-water mark of everyone's transient buffers. A fixed threshold maps each
large buffer on its own and unmaps it when freed: what a socket sends costs the hub only while it is held.
"""

from __future__ import annotations

import ctypes
import ctypes.util

__all__ = ["LARGE_BUFFER_BYTES", "return_large_buffers"]

#: Allocations of at least this size get their own mapping (glibc ``M_MMAP_THRESHOLD``).
LARGE_BUFFER_BYTES = 64 * 1024
_M_MMAP_THRESHOLD = -3


def return_large_buffers() -> bool:
    """Set the threshold where the C library is glibc; returns whether it was set."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, LARGE_BUFFER_BYTES))
