"""Hub nodes in turn: the next one at once, a new round after the last."""

from __future__ import annotations

import pytest

from client_sdk.nodes import HubNodes


def test_nodes_are_tried_in_turn_and_a_round_ends_after_the_last() -> None:
    nodes = HubNodes(["ws://a/sync", "ws://b/sync", "ws://c/sync"])
    assert nodes.current == "ws://a/sync"
    assert nodes.next() is True and nodes.current == "ws://b/sync"
    assert nodes.next() is True and nodes.current == "ws://c/sync"
    assert nodes.next() is False and nodes.current == "ws://a/sync", "back to the first: a new round, after backoff"


def test_one_url_is_a_round_of_its_own() -> None:
    nodes = HubNodes("ws://lb/sync")
    assert nodes.next() is False and nodes.current == "ws://lb/sync"


@pytest.mark.parametrize("urls", [[], [""], ["ws://a/sync", 3]])
def test_no_usable_url_is_refused(urls: list[object]) -> None:
    with pytest.raises(ValueError, match="at least one hub URL"):
        HubNodes(urls)  # type: ignore[arg-type]
