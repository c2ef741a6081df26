"""Shared fixtures live in tests/support; each module is registered here as a plugin.

The ``slow`` marker is given here, by place, to whole directories and modules whose tests start hub processes,
run under Node, wait on real timers or run long property searches; ``bin/test -m "not slow"`` is then the quick
subset. A test elsewhere that is slow on its own carries ``@pytest.mark.slow`` itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.support.databases", "tests.support.hub", "tests.support.postgres_cluster",
                  "tests.support.redis_server", "tests.support.browser"]

TESTS = Path(__file__).resolve().parent
#: Slow places, relative to tests/: a directory (trailing slash) or a module.
SLOW = (
    "e2e/",  # hub processes: durability under SIGKILL, compaction, shutdown, interop under Node
    "sync/test_domain_property.py",  # random offline edits on both stores, many examples each
    "sync/test_store.py",  # the store contract on a fresh database per test, compaction under concurrent appends
    "client_sdk/test_acceptance.py",  # devices and hub processes killed and restarted
    "client_sdk/test_scope_acceptance.py",  # first syncs of 1,000 records on a hub process
    "client_sdk/test_sync_client.py",  # real rate-limit, heartbeat and backoff timers
    "client_sdk/test_example.py",  # the example starts its own hub
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under a ``SLOW`` place ``slow``; a place that no longer exists is an error, not a no-op."""
    stale = [place for place in SLOW if not (TESTS / place).exists()]
    if stale:
        raise pytest.UsageError(f"tests/conftest.py SLOW names places that do not exist: {', '.join(stale)}")
    places = [(TESTS / place).resolve() for place in SLOW]
    for item in items:
        path = item.path.resolve()
        if any(path == place or path.is_relative_to(place) for place in places):
            item.add_marker(pytest.mark.slow)
