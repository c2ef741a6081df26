"""The hub nodes a device may sync with: one at a time, the next one at once when it fails."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["HubNodes"]


class HubNodes:
    """One URL (a single hub, or a load balancer) or several nodes' URLs, tried in turn."""

    def __init__(self, url: str | Sequence[str]) -> None:
        self.urls: tuple[str, ...] = (url,) if isinstance(url, str) else tuple(url)
        if not self.urls or not all(isinstance(u, str) and u for u in self.urls):
            raise ValueError("SyncClient needs at least one hub URL")
        self._index = 0

    @property
    def current(self) -> str:
        """The URL in use, or tried next."""
        return self.urls[self._index]

    def next(self) -> bool:
        """Move to the next node; False when that starts a new round (time to back off before it)."""
        self._index = (self._index + 1) % len(self.urls)
        return self._index != 0
