"""A document on one connection: its state machine, and which state vector covers which."""

from __future__ import annotations

import pytest
from pycrdt import Doc, Map

from client_sdk.session.link import SERVED, TIMED, TRANSITIONS, Link, LinkState, Refused, Rejections, covers


def test_a_state_vector_covers_what_it_has_seen() -> None:
    a, b = Doc(), Doc()
    a.get("record", type=Map)["x"] = 1
    b.apply_update(a.get_update())
    assert covers(b.get_state(), a.get_state())
    a.get("record", type=Map)["y"] = 2
    assert not covers(b.get_state(), a.get_state())
    assert covers(a.get_state(), b.get_state())
    assert covers(b.get_state(), Doc().get_state()), "everything covers the empty document"


# -- the state machine --------------------------------------------------------------------------------


def test_every_state_has_its_transitions_listed() -> None:
    assert set(TRANSITIONS) == set(LinkState)
    assert all(TRANSITIONS[state] <= set(LinkState) for state in LinkState)
    assert TRANSITIONS[LinkState.DENIED] == frozenset(), "a denial is final on this connection"


def test_the_path_of_a_document_from_queued_to_synced_and_back() -> None:
    link = Link("work_order:WO-1")
    assert link.state is LinkState.QUEUED
    for state in (LinkState.AUTHENTICATING, LinkState.EXCHANGING, LinkState.CAUGHT_UP, LinkState.SENDING,
                  LinkState.SYNCED, LinkState.SENDING, LinkState.SYNCED):
        link.move(state)
    link.move(LinkState.PAUSED, due=5.0)
    assert not link.is_due(4.9) and link.is_due(5.0)
    link.move(LinkState.SENDING)
    assert link.due is None
    link.move(LinkState.RESTARTING, due=7.0)
    link.move(LinkState.EXCHANGING)
    link.move(LinkState.ANSWERED)  # the hub's step 1 came before its step 2
    link.move(LinkState.SENDING)


@pytest.mark.parametrize("old, new", [
    (LinkState.QUEUED, LinkState.SENDING),
    (LinkState.AUTHENTICATING, LinkState.SENDING),
    (LinkState.EXCHANGING, LinkState.SYNCED),
    (LinkState.BLOCKED, LinkState.SENDING),
    (LinkState.DENIED, LinkState.AUTHENTICATING),
    (LinkState.SYNCED, LinkState.EXCHANGING),
])
def test_a_move_not_in_the_table_is_a_bug(old: LinkState, new: LinkState) -> None:
    link = Link("work_order:WO-1", state=old)
    with pytest.raises(RuntimeError, match="not a transition"):
        link.move(new, due=1.0 if new in TIMED else None)
    assert link.state is old


def test_a_waiting_state_needs_its_time_and_only_those_take_one() -> None:
    link = Link("work_order:WO-1", state=LinkState.SENDING)
    with pytest.raises(RuntimeError):
        link.move(LinkState.PAUSED)
    with pytest.raises(RuntimeError):
        link.move(LinkState.SYNCED, due=1.0)


def test_reopening_starts_a_new_exchange() -> None:
    link = Link("work_order:WO-1", state=LinkState.SENDING, last_sent=7, last_code="rate_limited",
                refused=Refused.STEP2, error=("readonly", "read only"))
    link.inflight.append((7,))
    link.move(LinkState.REOPENING, due=1.0)
    link.move(LinkState.QUEUED)
    assert (link.last_sent, link.last_code, link.refused, link.error, list(link.inflight)) == (0, None, None, None, [])


def test_a_document_refused_or_taken_away_rejects_its_writes_for_the_rest_of_the_connection() -> None:
    assert TRANSITIONS[LinkState.REJECTING] == frozenset()
    for state in SERVED | {LinkState.AUTHENTICATING}:
        assert LinkState.REJECTING in TRANSITIONS[state], state
    assert LinkState.REJECTING not in TRANSITIONS[LinkState.QUEUED], "not before its Auth was sent"
    link = Link("work_order:WO-1")
    for state in (LinkState.AUTHENTICATING, LinkState.EXCHANGING, LinkState.ANSWERED, LinkState.SENDING):
        link.move(state)
    link.move(LinkState.REJECTING)
    with pytest.raises(RuntimeError, match="not a transition"):
        link.move(LinkState.SENDING)


@pytest.mark.parametrize("status_first", [True, False])
def test_each_refused_entry_is_paired_with_its_reason_whichever_comes_first(status_first: bool) -> None:
    rejections = Rejections()
    arrivals = [("status", (4,)), ("status", (5,)), ("status", ()), ("notice", ("write_rejected", "kept")),
                ("notice", ("rate_limited", "slow down")), ("notice", ("write_rejected", "kept"))]
    if not status_first:
        arrivals = arrivals[3:] + arrivals[:3]
    paired = []
    for kind, value in arrivals:
        (rejections.refused if kind == "status" else rejections.reasons).append(value)  # type: ignore[arg-type]
        paired += rejections.pairs()
    assert paired == [((4,), ("write_rejected", "kept")), ((5,), ("rate_limited", "slow down")),
                      ((), ("write_rejected", "kept"))]
    assert not rejections.unexplained
