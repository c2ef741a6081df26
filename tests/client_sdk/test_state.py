"""The sync state machine: every transition the client makes is one of these."""

from __future__ import annotations

import pytest

from client_sdk import SyncState
from client_sdk.state import TRANSITIONS, check_transition


def test_the_lifecycle_of_a_connection() -> None:
    path = [SyncState.OFFLINE, SyncState.CONNECTING, SyncState.SYNCING, SyncState.SYNCED, SyncState.SYNCING,
            SyncState.OFFLINE, SyncState.CONNECTING, SyncState.OFFLINE]
    for old, new in zip(path, path[1:]):
        check_transition(old, new)
    assert set(TRANSITIONS) == set(SyncState)


@pytest.mark.parametrize("old, new", [(SyncState.OFFLINE, SyncState.SYNCED), (SyncState.CONNECTING, SyncState.SYNCED),
                                      (SyncState.SYNCED, SyncState.CONNECTING)])
def test_impossible_transitions_are_bugs(old: SyncState, new: SyncState) -> None:
    with pytest.raises(RuntimeError):
        check_transition(old, new)
