"""The board where hub nodes post what the admin API shows of them, for every other node to read.

Each node posts a snapshot of its sockets and rooms every second with a time to live of a few seconds, so
a node that stops (a crash, SIGKILL) drops off the board by itself; nothing has to notice it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from sync.errors import FieldsyncError

__all__ = ["BoardUnavailable", "NodeBoard"]


class BoardUnavailable(FieldsyncError):
    """The board could not be written or read (its server is unreachable)."""

    def __init__(self, reason: str) -> None:
        super().__init__("board_unavailable", reason)


class NodeBoard(ABC):
    """One entry per live node: bytes that expire unless posted again."""

    @abstractmethod
    async def post(self, node: str, data: bytes, ttl: float) -> None:
        """Replace ``node``'s entry with ``data``, kept for ``ttl`` seconds. Raises ``BoardUnavailable``."""

    @abstractmethod
    async def read(self) -> dict[str, bytes]:
        """Every entry not expired, by node. Raises ``BoardUnavailable``."""

    @abstractmethod
    async def leave(self, node: str) -> None:
        """Remove ``node``'s entry now (a node stopping gracefully). Raises ``BoardUnavailable``."""

    async def close(self) -> None:
        """Release connections."""
