from __future__ import annotations

from sync.documents.awareness import AwarenessRegistry
from sync.protocol.awareness import AwarenessEntry


def test_newer_clocks_win_and_stale_ones_are_ignored() -> None:
    registry = AwarenessRegistry()
    a, b = object(), object()
    assert registry.apply([AwarenessEntry(1, 2, '{"x":1}')], a) == [AwarenessEntry(1, 2, '{"x":1}')]
    assert registry.apply([AwarenessEntry(1, 1, '{"x":0}')], b) == []
    assert registry.snapshot() == [AwarenessEntry(1, 2, '{"x":1}')]


def test_removal_by_the_client_and_on_disconnect() -> None:
    registry = AwarenessRegistry()
    a, b = object(), object()
    registry.apply([AwarenessEntry(1, 1, "{}"), AwarenessEntry(2, 5, "{}")], a)
    registry.apply([AwarenessEntry(3, 1, "{}")], b)
    assert registry.apply([AwarenessEntry(1, 1, "null")], a) == [AwarenessEntry(1, 1, "null")]
    assert registry.remove_owner(a) == [AwarenessEntry(2, 6, "null")]
    assert registry.snapshot() == [AwarenessEntry(3, 1, "{}")]
    assert registry.apply([AwarenessEntry(2, 6, "{}")], a) == [], "a stale state does not come back"
