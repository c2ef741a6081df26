"""Sync settings: defaults for a field device, nonsense refused at once."""

from __future__ import annotations

import pytest

from client_sdk import SyncConfig


def test_defaults_suit_a_field_device() -> None:
    config = SyncConfig()
    assert (config.backoff_base, config.backoff_cap, config.max_attempts) == (1.0, 30.0, None)
    assert (config.heartbeat_interval, config.heartbeat_timeout) == (25.0, 60.0)


@pytest.mark.parametrize("bad", [
    {"backoff_base": 0}, {"backoff_base": 5, "backoff_cap": 1}, {"max_attempts": 0},
    {"heartbeat_interval": 60, "heartbeat_timeout": 60}, {"connect_timeout": 0}, {"max_inflight_per_document": 0},
    {"token_refresh_margin": -1},
])
def test_inconsistent_settings_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        SyncConfig(**bad)
