from __future__ import annotations

from sync.documents.awareness import ENTRY_COST, AwarenessBudget, AwarenessRegistry
from sync.protocol.awareness import AwarenessEntry


def test_newer_clocks_win_and_stale_ones_are_ignored() -> None:
    registry = AwarenessRegistry()
    a = object()
    assert registry.apply([AwarenessEntry(1, 2, '{"x":1}')], a).accepted == [AwarenessEntry(1, 2, '{"x":1}')]
    assert registry.apply([AwarenessEntry(1, 1, '{"x":0}')], a).accepted == []
    assert registry.snapshot() == [AwarenessEntry(1, 2, '{"x":1}')]


def test_removal_by_the_client_and_on_disconnect() -> None:
    registry = AwarenessRegistry()
    a, b = object(), object()
    registry.apply([AwarenessEntry(1, 1, "{}"), AwarenessEntry(2, 5, "{}")], a)
    registry.apply([AwarenessEntry(3, 1, "{}")], b)
    assert registry.apply([AwarenessEntry(1, 1, "null")], a).accepted == [AwarenessEntry(1, 1, "null")]
    assert registry.remove_owner(a) == [AwarenessEntry(2, 6, "null")]
    assert registry.snapshot() == [AwarenessEntry(3, 1, "{}")]
    assert registry.apply([AwarenessEntry(2, 6, "{}")], a).accepted == [], "a stale state does not come back"


def test_another_connections_client_id_can_be_neither_overwritten_nor_removed() -> None:
    registry = AwarenessRegistry()
    owner, forger = object(), object()
    registry.apply([AwarenessEntry(7, 1, '{"user":"tech-7"}')], owner)
    forged = registry.apply([AwarenessEntry(7, 9, '{"user":"someone else"}'), AwarenessEntry(7, 10, "null")], forger)
    assert forged.accepted == [] and forged.not_owned == 2
    assert registry.snapshot() == [AwarenessEntry(7, 1, '{"user":"tech-7"}')]
    assert registry.remove_owner(forger) == [], "the forger never owned it"
    assert registry.apply([AwarenessEntry(7, 2, '{"user":"tech-7","x":1}')], owner).accepted, "the owner still may"


def test_a_removal_of_a_client_id_nobody_holds_is_not_kept() -> None:
    registry = AwarenessRegistry()
    a = object()
    assert registry.apply([AwarenessEntry(cid, 1, "null") for cid in range(1000)], a).accepted == []
    assert registry.bytes == 0 and len(registry) == 0


def test_a_connections_state_is_bounded_over_all_its_documents() -> None:
    first, second = AwarenessRegistry(), AwarenessRegistry()
    owner = object()
    budget = AwarenessBudget(limit=1000)
    big = "{" + '"k":"' + "x" * 500 + '"}'
    assert first.apply([AwarenessEntry(1, 1, big)], owner, budget).accepted
    refused = second.apply([AwarenessEntry(2, 1, big)], owner, budget)
    assert refused.accepted == [] and refused.too_large == 1, "the second document finds the budget spent"
    assert budget.used == ENTRY_COST + len(big)
    first.remove_owner(owner)
    assert budget.used == 0, "leaving a document gives its presence back"
    assert second.apply([AwarenessEntry(2, 1, big)], owner, budget).accepted


def test_a_documents_state_is_bounded_over_all_connections() -> None:
    registry = AwarenessRegistry(document_limit=3 * (ENTRY_COST + 100))
    state = '"' + "y" * 98 + '"'
    owners = [object() for _ in range(5)]
    outcomes = [registry.apply([AwarenessEntry(i, 1, state)], owner, AwarenessBudget(10_000)) for i, owner in enumerate(owners)]
    assert [bool(o.accepted) for o in outcomes] == [True, True, True, False, False]
    assert registry.bytes <= registry.document_limit


def test_many_client_ids_of_one_connection_count_against_it() -> None:
    registry = AwarenessRegistry()
    owner = object()
    budget = AwarenessBudget(limit=100 * ENTRY_COST)
    outcome = registry.apply([AwarenessEntry(cid, 1, "{}") for cid in range(1000)], owner, budget)
    assert len(outcome.accepted) == 100 // 1 * ENTRY_COST // (ENTRY_COST + 2) and outcome.too_large == 1000 - len(outcome.accepted)
