"""The ``$scopes`` channel's lifecycle: every state has its moves listed; a denied channel never turns ready."""

from __future__ import annotations

from client_sdk.session.scope_channel import CHANNEL_TRANSITIONS, ChannelState


def test_every_channel_state_has_its_moves_listed() -> None:
    assert set(CHANNEL_TRANSITIONS) == set(ChannelState)
    assert ChannelState.READY not in CHANNEL_TRANSITIONS[ChannelState.DENIED]
    assert ChannelState.READY not in CHANNEL_TRANSITIONS[ChannelState.IDLE], "not before it is authenticated"
    reachable = {ChannelState.IDLE}
    for _ in ChannelState:
        reachable |= {new for old in reachable for new in CHANNEL_TRANSITIONS[old]}
    assert reachable == set(ChannelState)
