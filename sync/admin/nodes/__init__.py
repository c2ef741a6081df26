"""Every hub node's sockets and rooms for the admin API: each node posts a bounded snapshot of its own to a
board every second (``SnapshotPoster``), with a time to live; the node asked reads the others' from it.

The board is Redis when nodes share one (``RedisBoard``), else in the process (``InProcessBoard``).
"""

from __future__ import annotations

from sync.admin.nodes.base import BoardUnavailable, NodeBoard
from sync.admin.nodes.memory import InProcessBoard
from sync.admin.nodes.poster import POST_SECONDS, TTL_SECONDS, SnapshotPoster
from sync.admin.nodes.redis import RedisBoard
from sync.admin.nodes.snapshot import NodeSnapshot, decode, encode, take

__all__ = [
    "POST_SECONDS", "TTL_SECONDS", "BoardUnavailable", "InProcessBoard", "NodeBoard", "NodeSnapshot", "RedisBoard",
    "SnapshotPoster", "decode", "encode", "take",
]
