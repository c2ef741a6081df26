"""Connections not yet authenticated, counted per client address, so that one address cannot park many.

A socket takes a ticket when it is accepted and gives it back when its first document is authenticated
or when it ends, whichever comes first. An address already holding the configured number of tickets gets
none: the socket is closed with 4429 before it can hold anything.
"""

from __future__ import annotations

__all__ = ["Admission", "Ticket"]


class Ticket:
    """One unauthenticated connection of ``address``; ``release`` is idempotent."""

    __slots__ = ("_admission", "address")

    def __init__(self, admission: Admission, address: str) -> None:
        self._admission: Admission | None = admission
        self.address = address

    def release(self) -> None:
        if self._admission is not None:
            self._admission._release(self.address)
            self._admission = None


class Admission:
    """Counts unauthenticated connections per address against ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._counts: dict[str, int] = {}

    def admit(self, address: str) -> Ticket | None:
        """A ticket for one more unauthenticated connection of ``address``, or ``None`` when it has too many."""
        held = self._counts.get(address, 0)
        if held >= self.limit:
            return None
        self._counts[address] = held + 1
        return Ticket(self, address)

    def held(self, address: str) -> int:
        return self._counts.get(address, 0)

    def _release(self, address: str) -> None:
        left = self._counts.get(address, 0) - 1
        if left > 0:
            self._counts[address] = left
        else:
            self._counts.pop(address, None)
