"""The other nodes as heard on the bus: envelopes lost in between, and nodes gone silent."""

from __future__ import annotations

__all__ = ["Peers"]


class Peers:
    """Each node's last sequence number and when it was last heard (monotonic seconds)."""

    def __init__(self, silence: float) -> None:
        self._silence = silence
        self._last: dict[str, int] = {}
        self._heard: dict[str, float] = {}

    def heard(self, node: str, seq: int, now: float) -> bool:
        """Note envelope ``seq`` of ``node``; True when envelopes of it were lost before this one.

        A node heard for the first time has no gap: what it published before we listened is in the
        store, which rooms loaded after we subscribed (or caught up when we did) have read.
        """
        last = self._last.get(node)
        self._last[node] = seq
        self._heard[node] = now
        return last is not None and seq != last + 1

    def silent(self, now: float) -> list[str]:
        """Nodes not heard for longer than the silence limit; they are forgotten (a new envelope is a fresh start)."""
        gone = [node for node, heard in self._heard.items() if now - heard > self._silence]
        for node in gone:
            del self._last[node], self._heard[node]
        return gone

    def forget(self) -> None:
        """Forget every node (our own subscription restarted: the store covers what was missed)."""
        self._last.clear()
        self._heard.clear()

    def __contains__(self, node: str) -> bool:
        return node in self._last
