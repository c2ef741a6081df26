"""The board in one process: for the embedded hub, and for several hubs of one test sharing it."""

from __future__ import annotations

import time

from sync.admin.nodes.base import NodeBoard

__all__ = ["InProcessBoard"]


class InProcessBoard(NodeBoard):
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, bytes]] = {}  # node -> (expiry, monotonic seconds; data)

    async def post(self, node: str, data: bytes, ttl: float) -> None:
        self._entries[node] = (time.monotonic() + ttl, data)

    async def read(self) -> dict[str, bytes]:
        now = time.monotonic()
        self._entries = {node: entry for node, entry in self._entries.items() if entry[0] > now}
        return {node: data for node, (_, data) in self._entries.items()}

    async def leave(self, node: str) -> None:
        self._entries.pop(node, None)
