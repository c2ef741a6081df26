"""The extension that keeps this node on the board: a snapshot posted every second, removed at a graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sync.admin.nodes.base import BoardUnavailable, NodeBoard
from sync.admin.nodes.snapshot import NodeSnapshot, encode
from sync.cancellation import uncancelled
from sync.hooks import Extension

__all__ = ["POST_SECONDS", "TTL_SECONDS", "SnapshotPoster"]

log = logging.getLogger(__name__)

#: How often a node posts its snapshot.
POST_SECONDS = 1.0
#: How long a posted snapshot stays on the board: a node that stopped drops out after this.
TTL_SECONDS = 3.0


class SnapshotPoster(Extension):
    name = "admin-nodes"

    def __init__(self, board: NodeBoard, take: Callable[[], NodeSnapshot], *, interval: float = POST_SECONDS,
                 ttl: float = TTL_SECONDS) -> None:
        self.board = board
        self._take = take
        self._interval = interval
        self._ttl = ttl

    async def run(self) -> None:
        node: str | None = None
        failing = False
        try:
            while True:
                snapshot = self._take()
                node = snapshot.node
                try:
                    await uncancelled(self.board.post(node, encode(snapshot), self._ttl))
                    if failing:
                        log.warning("admin snapshot posted again")
                    failing = False
                except BoardUnavailable as exc:
                    if not failing:  # once per outage: the other nodes' admin views lack this node meanwhile
                        log.warning("admin snapshot not posted (%s); retrying every %.0f s", exc.reason, self._interval)
                    failing = True
                await asyncio.sleep(self._interval)
        finally:
            if node is not None:  # stopping: off the board now rather than when the snapshot expires
                with contextlib.suppress(BoardUnavailable, TimeoutError):
                    async with asyncio.timeout(1.0):
                        await self.board.leave(node)
