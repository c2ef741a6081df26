"""Peers: envelopes lost in between, and nodes gone silent."""

from __future__ import annotations

from sync.bus.peers import Peers


def test_a_first_envelope_has_no_gap_and_a_skipped_number_is_one() -> None:
    peers = Peers(silence=5)
    assert peers.heard("a", 41, now=0) is False, "what it sent before we listened is in the store"
    assert peers.heard("a", 42, now=1) is False
    assert peers.heard("a", 44, now=2) is True
    assert peers.heard("b", 1, now=2) is False, "each node has its own numbers"


def test_silent_nodes_are_reported_once_and_forgotten() -> None:
    peers = Peers(silence=5)
    peers.heard("a", 1, now=0)
    peers.heard("b", 1, now=4)
    assert peers.silent(now=5) == []
    assert peers.silent(now=6) == ["a"]
    assert peers.silent(now=7) == []
    assert "a" not in peers and "b" in peers
    assert peers.heard("a", 9, now=8) is False, "a node heard again starts afresh"


def test_forget_starts_every_node_afresh() -> None:
    peers = Peers(silence=5)
    peers.heard("a", 1, now=0)
    peers.forget()
    assert peers.heard("a", 5, now=1) is False
